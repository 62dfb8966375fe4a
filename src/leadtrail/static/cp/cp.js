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
// The invite link on the Account page: selected whole on focus; a Copy button where the
// browser lets a page write to the clipboard (without it, the selected text is copied by hand).
document.addEventListener("focusin", function (event) {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
});
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var input = document.getElementById(button.getAttribute("data-copy"));
  if (!input || !navigator.clipboard || !window.isSecureContext) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(input.value).then(function () {
      button.textContent = "Copied";
    }, function () {
      input.select();
      button.textContent = "Select and copy";
    });
  });
});
