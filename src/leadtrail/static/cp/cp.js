// leadtrail dashboard: progressive enhancement only; every page works without it.
"use strict";
document.addEventListener("click", function (event) {
  // A click anywhere on an enquiry row opens it (the e-mail link stays the keyboard path).
  var row = event.target.closest && event.target.closest("tr[data-href]");
  if (!row || event.target.closest("a, button, input, label, form")) return;
  if (window.getSelection && String(window.getSelection())) return; // selecting text, not opening
  var href = row.getAttribute("data-href");
  if (href && href.charAt(0) === "/" && href.charAt(1) !== "/") {
    if (event.metaKey || event.ctrlKey) window.open(href, "_blank", "noopener");
    else window.location.assign(href);
  }
});
