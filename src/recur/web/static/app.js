// Recur back office: small enhancements; every page also works without this file.
(function () {
  "use strict";

  function openModal(dialog) {
    if (dialog.open) dialog.removeAttribute("open");  // no close event: focus stays here
    dialog.showModal();
  }

  // Focus goes back to what opened the pop-up when it closes (Escape, Cancel or ×):
  // the opener pressed on this page, or the trigger the dialog names (data-trigger)
  // when the server rendered it open.
  function returnFocus(dialog) {
    var target = dialog.opener || document.getElementById(dialog.dataset.trigger || "");
    if (target) target.focus();
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog) { event.preventDefault(); dialog.opener = opener; openModal(dialog); }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) {
      event.preventDefault();
      closer.closest("dialog").close();
    }
  });

  // One submission per form marked data-submit-once (its value: the action that
  // counts): a second click is ignored here, and the idempotency key makes the
  // server answer a repeated request with the first result.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var action = form.dataset.submitOnce;
    if (!action) return;
    var submitter = event.submitter;
    if (submitter && submitter.value !== action) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });

  // Typing a date in the Change form means "on that date".
  document.addEventListener("input", function (event) {
    if (event.target.name !== "effective_date") return;
    var onDate = event.target.form.querySelector('input[name="effective"][value="date"]');
    if (onDate) onDate.checked = true;
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog").forEach(function (dialog) {
      dialog.addEventListener("close", function () { returnFocus(dialog); });
    });
    document.querySelectorAll("dialog[data-auto-open]").forEach(openModal);
  });
})();
