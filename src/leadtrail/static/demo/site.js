// The demo site's own script, written the way a small business site's would be. It knows nothing
// of leadtrail beyond the public API: the tracker sees its router navigations, its gtag() and
// dataLayer calls, and one custom event, the way it would on a real site.
(function () {
  'use strict';
  var gtag = window.gtag || function () { (window.dataLayer = window.dataLayer || []).push(arguments); };

  // Services: switch between packages without a reload, like a single-page app's router.
  var panels = document.querySelectorAll('[data-package]');
  function show(path) {
    var slug = path.split('/').filter(Boolean).pop();
    var found = false;
    panels.forEach(function (panel) {
      var on = panel.getAttribute('data-package') === slug;
      found = found || on;
      panel.hidden = !on;
    });
    if (!found && panels.length) panels[0].hidden = false;
    document.querySelectorAll('[data-package-tab]').forEach(function (tab) {
      var on = found ? tab.getAttribute('data-package-tab') === slug : tab === document.querySelector('[data-package-tab]');
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      if (on) document.title = tab.getAttribute('data-title');
    });
  }
  document.addEventListener('click', function (e) {
    var tab = e.target.closest && e.target.closest('[data-package-tab]');
    if (!tab || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    if (tab.pathname === location.pathname) return;
    history.pushState({ package: tab.getAttribute('data-package-tab') }, '', tab.href);
    show(location.pathname);
    gtag('event', 'view_package', { package_name: tab.getAttribute('data-package-tab') });
  });
  window.addEventListener('popstate', function () {
    if (panels.length) show(location.pathname);
  });

  // FAQ answers opened: a custom event through the tracker's own API.
  document.addEventListener('toggle', function (e) {
    var item = e.target;
    if (item.tagName === 'DETAILS' && item.open && window.leadtrail) {
      window.leadtrail.track('faq_open', { question: item.querySelector('summary').textContent.trim() });
    }
  }, true);

  // Booking form: what a site with Google Tag Manager usually pushes.
  var form = document.querySelector('form.booking');
  if (form) {
    var started = false;
    form.addEventListener('focusin', function () {
      if (!started) {
        started = true;
        window.dataLayer.push({ event: 'booking_form_start', form_name: 'booking' });
      }
    });
    form.addEventListener('submit', function () {
      gtag('event', 'generate_lead', { form_name: 'booking', package_name: form.elements['package'].value });
    });
  }
})();
