// Recur back office: small enhancements; every page also works without this file.
(function () {
  "use strict";

  function openModal(dialog) {
    if (dialog.open) dialog.close();
    dialog.showModal();
  }

  function placeholder(list) {
    var items = list.querySelectorAll("li[data-subscription]");
    var empty = list.querySelector("li.placeholder");
    if (!items.length && !empty) {
      var li = document.createElement("li");
      li.className = "muted placeholder";
      li.textContent = list.dataset.empty || "Nothing selected yet.";
      list.appendChild(li);
    } else if (items.length && empty) {
      empty.remove();
    }
  }

  function insertSelected(form) {
    var list = form.querySelector("#selected-list");
    form.querySelectorAll('input[name="candidate"]:checked').forEach(function (box) {
      var id = box.value;
      box.checked = false;
      if (list.querySelector('li[data-subscription="' + id + '"]')) return;
      var label = form.querySelector('label[for="cand-' + id + '"]');
      var li = document.createElement("li");
      li.dataset.subscription = id;
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = "selected"; hidden.value = id;
      var name = document.createElement("span");
      name.textContent = label ? label.textContent.trim() : "#" + id;
      var remove = document.createElement("button");
      remove.type = "submit"; remove.name = "remove"; remove.value = id;
      remove.className = "link danger"; remove.dataset.remove = ""; remove.textContent = "Remove";
      li.append(hidden, name, remove);
      list.appendChild(li);
    });
    placeholder(list);
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog) { event.preventDefault(); openModal(dialog); }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) {
      event.preventDefault();
      closer.closest("dialog").close();
      return;
    }
    if (event.target.closest("#insert-selected")) {
      event.preventDefault();
      insertSelected(event.target.closest("form"));
      return;
    }
    var remove = event.target.closest("[data-remove]");
    if (remove) {
      event.preventDefault();
      var list = remove.closest("ul");
      remove.closest("li").remove();
      placeholder(list);
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
    document.querySelectorAll("dialog[data-auto-open]").forEach(openModal);
  });
})();
