/*
 * The merchant app's small behaviours, kept out of inline handlers (the Content-Security-Policy
 * runs no inline script without this response's nonce):
 *   <form data-confirm="Delete this?">   asks before submitting
 *   <select data-autosubmit>             submits its form when changed
 */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) field.form.submit();
  });
})();
