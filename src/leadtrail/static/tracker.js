/*! leadtrail tracker: https://github.com/leadtrail/leadtrail (MIT)
 *
 * Include with <script defer src="/api/track/script.js"></script>.
 *
 * WHAT IT SENDS, to POST {api}/api/track, first-party, as text/plain JSON (no CORS preflight):
 *   page_view        on load and on every single-page-app navigation (pushState, replaceState,
 *                    popstate) to a new path or query; params: title, and on the first view of the
 *                    page load the full document.referrer (the server keeps only what attribution needs)
 *   page_engagement  engaged_ms = visible time on the page it names since its previous
 *                    page_engagement (the server sums them), when the page is hidden or left and
 *                    before a single-page-app navigation
 *   outbound_click   href (origin + path) of a link to another host that was clicked
 *   file_download    href (origin + path) of a clicked link to a pdf, zip, docx, xlsx, ... file
 *   custom events    leadtrail.track(name, params), and the site's own gtag('event', name, params)
 *                    and dataLayer.push({event: name, ...}) calls, mirrored with their flat params
 * Each event is {event_name, page_path (path + query; the server drops all but utm_* and click
 * ids), params, event_id (random), ts (Date.now())}. No cookies are set by this script: the
 * server sets its own signed anon_id cookie, which lives 24 hours.
 *
 * WHY: so that when a visitor chooses to submit a form marked <form data-leadtrail-promote>, the
 * site owner can see how that one enquirer found the site and what they read first. The form's
 * e-mail address and this tab's event buffer (sessionStorage "leadtrail:events", newest 250,
 * kept whether or not a send succeeded, so events blocked on the way still reach the journey)
 * are POSTed to {api}/api/track/promote on submit, without delaying the submission.
 *
 * REMEMBERED VISITS: where each visit to this site came from is kept in this browser's own
 * localStorage ("leadtrail:touches": start time, landing page with only its campaign tags and ad
 * click ids, referrer origin, page count) for TOUCH_MEMORY_DAYS (set by the server, 90 by default),
 * the first visit always and the latest 9 besides, and sent only with a promote, so an enquiry is
 * credited to the newsletter or ad that first brought the visitor weeks ago. Never sent to
 * /api/track; nothing is remembered under GPC or with the setting at 0.
 *
 * RECEIPT: an element marked data-leadtrail-receipt (the thank-you page) becomes a link to the
 * promote's receipt_url, where the enquirer sees what was attached to the enquiry; if the form's
 * own submission left before the promote answered, the next page asks POST {api}/api/track/receipt.
 * An input marked data-leadtrail-honeypot holding a value makes the promote say "honeypot": true.
 *
 * WHEN IT SENDS NOTHING: Global Privacy Control is on (navigator.globalPrivacyControl; nothing
 * is kept either), or the browser is automated (navigator.webdriver) without the test override
 * (window.leadtrailTest = true, or data-allow-automation on the script tag).
 *
 * OPTIONS (script tag attributes): data-api="https://stats.example.com" (where to send; default:
 * the origin this script was loaded from), data-auto="false" (no automatic page views: call
 * leadtrail.pageview() yourself). API: leadtrail.track(name, params), leadtrail.pageview(params),
 * leadtrail.promote(email, {form, consent}) -> Promise of the server's JSON answer.
 * Full reference: docs/integration.md.
 */
(() => {
  const w = window, d = document, n = navigator, loc = location;
  if (w.leadtrail) return; // included twice

  const KEY = 'leadtrail:events';
  const script = d.currentScript;
  const data = script?.dataset || {};
  const log = (err) => console.debug('leadtrail:', err);
  // Wraps every entry point called by the browser or the host page: an error in here must never
  // break the site, but it is logged, and the tests fail on these logs.
  const guard = (fn) => function (...args) {
    try { return fn.apply(this, args); } catch (err) { log(err); }
  };
  const on = (target, type, fn) => target.addEventListener(type, guard(fn), true);
  // Replaces a method of the page with one that does what it did, then calls hook(this, args).
  const after = (object, name, hook) => {
    const original = object[name];
    object[name] = function (...args) {
      const result = original.apply(this, args);
      hook(this, args);
      return result;
    };
  };

  let storage, local;
  try { storage = w.sessionStorage; local = w.localStorage; } catch (err) { log(err); } // blocked storage throws
  const TOUCHES = 'leadtrail:touches';
  // Served in by the server (TOUCH_MEMORY_DAYS); the bare file remembers nothing.
  const days = parseInt('@@TOUCH_DAYS@@');

  if (n.globalPrivacyControl || (n.webdriver && !w.leadtrailTest && data.allowAutomation == null)) {
    storage?.removeItem(KEY); // keep nothing either
    local?.removeItem(TOUCHES);
    w.leadtrail = { track() {}, pageview() {}, promote: async () => null };
    return;
  }

  const api = (data.api || new URL(script?.src || loc.href).origin).replace(/\/+$/, '');
  const auto = data.auto != 'false';

  // ---- the buffer: every event, acknowledged (s: 1), refused for good (s: 2) or not yet (no s)
  let buffer = [];
  try { buffer = JSON.parse(storage.getItem(KEY)) || []; } catch (err) { log(err); }
  const save = () => {
    buffer = buffer.slice(-250); // the newest 250
    try { storage.setItem(KEY, JSON.stringify(buffer)); } catch (err) { log(err); } // quota, private mode
  };

  const here = () => (loc.pathname + loc.search).slice(0, 2048);
  // Flat params as the server accepts them (one bad event would get its whole batch refused):
  // at most 50, keys of 1-64 characters, scalars only, strings cut to 1,000 characters (never
  // inside a surrogate pair: half an emoji is not valid Unicode and the server refuses it).
  const flat = (params) => {
    const out = {};
    for (const [k, v] of Object.entries(params || {}).slice(0, 50)) {
      // (JSON leaves out functions and undefined, and turns NaN into null)
      if (!/^(event$|gtm|$)|.{65}/.test(k) && (v === null || typeof v != 'object')) out[k] = typeof v == 'string' ? [...v].slice(0, 1000).join('') : v;
    }
    return out;
  };

  // ---- sending: one request at a time (the first answer sets the anon_id cookie) while the
  // rest waits in the buffer; failures back off; sendBeacon when the page is going away.
  // Events kept and none ever answered: the last page may have left while this tab's first
  // request was on its way, and its answer brings the anon_id cookie; sent at once, they would get
  // a second id (stored twice), so this page waits 2 s for that answer to land.
  let busy, leaving, failures = 0, retryAt = buffer[0] && !buffer.some((e) => e.s == 1) && Date.now() + 2e3;
  const sent = new Set(); // events on their way (or beaconed) from this page
  // A string body goes as text/plain, which needs no CORS preflight.
  const post = (path, body, headers) => fetch(api + path, {
    method: 'POST', body, headers, keepalive: body.length < 6e4, credentials: 'include'
  });
  const flush = () => {
    // Until the server has answered once, this tab has no anon_id cookie, and two requests in
    // flight would each get one (the same events stored under two ids): so one at a time, and
    // none from a page going away (the next page sends them).
    if (leaving ? !buffer.some((e) => e.s == 1) : busy || retryAt > Date.now()) return;
    const batch = buffer.filter((e) => !e.s && !sent.has(e)).slice(0, 50);
    if (!batch.length) return;
    const done = (state) => {
      batch.forEach((e) => { sent.delete(e); e.s = state; });
      save();
    };
    batch.forEach((e) => sent.add(e));
    const body = JSON.stringify({ events: batch });
    // Not marked: nobody hears the answer to a beacon, so the next page sends these again (the
    // server stores an event_id once).
    if (leaving && n.sendBeacon?.(api + '/api/track', body)) return;
    busy = 1;
    const fail = (seconds) => {
      done();
      retryAt = Date.now() + 1000 * (seconds || Math.min(2 ** ++failures, 300));
    };
    post('/api/track', body).then((res) => {
      if (res.ok) { failures = 0; done(1); }
      // Refused for good (invalid, forbidden): kept for promote, never sent again.
      else if (res.status < 500 && res.status != 429) done(2);
      else fail(+res.headers.get('Retry-After'));
    }, () => fail()).then(() => { busy = 0; flush(); }).catch(log);
  };

  const send = (name, params, page_path) => {
    if (!/^[\w.:-]{1,64}$/.test(name)) return log(name); // would get the whole batch refused
    if (timer) settle();
    page_path ||= here();
    const event_id = crypto.getRandomValues(new Uint32Array(4)).join('-'); // 128 random bits
    buffer.push({ event_name: name, page_path, params: flat(params), event_id, ts: Date.now() });
    save();
    flush();
  };

  // ---- page views and engagement (visible time on the page)
  let lastPath, shownAt, referrer = d.referrer;
  // Sends the visible time since the last call (if any) and restarts the clock if visible
  // (pagehide may come before visibilitychange: the page is gone all the same).
  const engage = () => {
    const now = Date.now(), engaged_ms = shownAt && now - shownAt;
    shownAt = !d.hidden && !leaving && now;
    if (engaged_ms > 0 && lastPath) send('page_engagement', { engaged_ms }, lastPath);
  };
  // ---- remembered visits: one touch per visit (30 minutes without a page view ends one); the
  // first touch always, then the latest 9: first-touch credit plus the recent path, in under 1 KB.
  const memory = () => {
    try { return JSON.parse(local.getItem(TOUCHES)) || []; } catch (err) { log(err); return []; }
  };
  const remember = () => {
    const now = Date.now();
    let touches = memory();
    const last = touches[touches.length - 1];
    if (last?.last > now - 18e5) { last.pages++; last.last = now; }
    else {
      // Only what attribution needs from the landing page's query (the server's allowlist).
      const query = loc.search.slice(1).split('&').filter((p) => /^(utm_\w+|[gw]braid|[a-z]*clk?id|li_fat_id|ref|source)=/.test(p)).join('&');
      const from = referrer && new URL(referrer).origin;
      touches.push({ ts: now, last: now, pages: 1, page_path: loc.pathname + (query && '?' + query), referrer: from != loc.origin && from || null });
    }
    // (with days at 0, or no number served in, every touch is too old: none is kept)
    touches = touches.filter((t) => t.ts > now - days * 864e5);
    touches.splice(1, touches.length - 10);
    try { touches[0] ? local.setItem(TOUCHES, JSON.stringify(touches)) : local.removeItem(TOUCHES); } catch (err) { log(err); }
  };
  const pageview = (params) => {
    engage();
    remember();
    lastPath = here();
    send('page_view', { title: d.title, ...(referrer && { referrer }), ...params });
    referrer = '';
  };
  // Routers set the new title after changing the URL, and may redirect at once: look a moment
  // later (or at the next event, so that it comes after its page view), and count only a new
  // path or query.
  let timer;
  const settle = () => {
    timer = clearTimeout(timer);
    if (auto && lastPath && here() != lastPath) pageview();
  };
  const navigated = () => { clearTimeout(timer); timer = setTimeout(guard(settle), 100); };
  after(history, 'pushState', navigated);
  after(history, 'replaceState', navigated);
  on(w, 'popstate', navigated);
  // Hidden: report the time; shown again: restart the clock (engage() does both) and retry.
  const hidden = (e) => {
    leaving = e.type == 'pagehide';
    engage();
    flush();
    leaving = 0;
  };
  on(d, 'visibilitychange', hidden);
  on(w, 'pagehide', hidden);

  // ---- links: outbound clicks and file downloads
  const clicked = (e) => {
    const a = e.target.closest?.('a[href]');
    if (!a || (e.type == 'auxclick' && e.button != 1)) return;
    const url = new URL(a.getAttribute('href'), d.baseURI);
    const href = url.origin + url.pathname;
    if (!/^https?:$/.test(url.protocol)) return;
    if (/\.(pdf|docx?|xlsx?|pptx?|od[ts]|csv|txt|zip|rar|7z|gz|dmg|exe|msi|epub|mp[34])$/i.test(url.pathname) || a.hasAttribute('download')) send('file_download', { href });
    else if (url.host != loc.host) send('outbound_click', { href });
  };
  on(w, 'click', clicked);
  on(w, 'auxclick', clicked);

  const track = (name, params) => name == 'page_view' ? pageview(params) : send(name, params);

  // ---- the site's Google tag: gtag('event', name, params) pushes its arguments onto dataLayer
  const mirror = guard((item) => {
    if (item?.[0] == 'event') { if (!(auto && item[1] == 'page_view')) track(item[1], item[2]); }
    else if (typeof item?.event == 'string' && !/^gtm\./.test(item.event)) track(item.event, item);
  });

  // ---- the receipt: elements marked data-leadtrail-receipt on a page after the promote (the
  // thank-you page) link to the enquirer's receipt. sessionStorage "leadtrail:receipt" holds its
  // address, or the time a promote left unanswered: the form's own submission usually leaves the
  // page first. Then the next page asks POST {api}/api/track/receipt (no body; this browser's
  // anon_id cookie names the enquiry; {receipt_url: path, or null while it is not saved yet}),
  // 4 times at most (at once, then 1, 2 and 4 s apart), within 10 minutes of the promote.
  const RECEIPT = 'leadtrail:receipt';
  const keep = (value) => {
    try { value ? storage.setItem(RECEIPT, value) : storage.removeItem(RECEIPT); } catch (err) { log(err); }
    receipt(9); // shown at once when the address is known
  };
  const receipt = (tries) => {
    const value = storage?.getItem(RECEIPT);
    if (value?.[0] == '/') { // a path on the server (never a host: "api + value" stays there)
      // The marked element is shown; it is the link, or holds it. (href on another element is
      // a harmless property.)
      for (const a of d.querySelectorAll('[data-leadtrail-receipt],[data-leadtrail-receipt] a')) { a.href = api + value; a.hidden = false; }
    } else if (value > Date.now() - 6e5 && tries < 4) {
      post('/api/track/receipt', '')
        .then((res) => res.json())
        .then(({ receipt_url }) => receipt_url ? keep(receipt_url) : setTimeout(guard(receipt), 1e3 << tries, tries + 1), log);
    }
  };

  // ---- promote: link this tab's journey to the e-mail address the visitor just submitted
  const promote = async (email, { form, consent, honeypot } = {}) => {
    const touches = memory();
    const make = (events) => JSON.stringify({ email, client_events: events, form, consent, honeypot, touches });
    let body = make(buffer);
    // A keepalive body must stay under 64 KiB: leave out what the server already has.
    if (!(body.length < 6e4)) body = make(buffer.filter((e) => e.s != 1)); // (not ">=": fewer bytes gzipped)
    keep(Date.now()); // in flight: the next page asks for the receipt if this page never hears
    const res = await post('/api/track/promote', body, { 'content-type': 'application/json' });
    const answer = await res.json();
    if (!res.ok) throw keep(), Object.assign(Error(answer.error), { status: res.status, answer });
    keep(answer.receipt_url);
    return answer;
  };
  const submitted = guard((form) => {
    if (!form?.hasAttribute?.('data-leadtrail-promote')) return;
    const email = form.querySelector('input[type=email]')?.value.trim();
    // (A site handler that cancels the submit event and calls form.submit() itself gets two
    // promotes: the server answers the second with the same journey.)
    if (!email) return;
    const box = form.elements[form.getAttribute('data-leadtrail-consent')];
    const trap = form.querySelector('[data-leadtrail-honeypot]');
    engage(); // the time spent on the form belongs to the journey
    promote(email, {
      form: form.getAttribute('data-leadtrail-form') || form.getAttribute('id') || form.getAttribute('name') || undefined,
      consent: box ? !!box.checked : undefined,
      honeypot: !!trap?.value || undefined
    }).catch(log);
  });
  // Capture on window runs before any handler of the site, even one that cancels the event;
  // nothing here cancels or delays the submission.
  on(w, 'submit', (e) => submitted(e.target));
  // form.submit() fires no submit event; the navigation it starts waits for this task to end.
  after(HTMLFormElement.prototype, 'submit', submitted);

  w.leadtrail = {
    track: guard(track),
    pageview: guard(pageview),
    promote // async: rejects, never throws
  };

  const layer = (w.dataLayer ||= []);
  layer.forEach(mirror); // pushed before this script ran
  after(layer, 'push', (_, items) => items.forEach(mirror));

  if (auto) pageview();
  setTimeout(flush, 2e3); // what earlier pages of this tab could not deliver (after that wait)
  receipt(0);
})();
