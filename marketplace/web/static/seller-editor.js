// The seller's editor, enhanced: every form works without this file (plain posts, a plain select); with it an
// upload shows its progress with the button disabled, and the licence picker gets a search box.
"use strict";

(function () {
  // ---------------------------------------------------------------- uploads with progress

  // The page the server answered with (the step after its redirect, or the form with its errors) replaces this
  // one, as a plain post would have; the address changes only when the server redirected.
  function showAnswer(form, xhr) {
    var answer = xhr.response;
    if (!answer || !answer.body) {
      window.location.reload();
      return;
    }
    document.title = answer.title;
    document.body.replaceWith(document.adoptNode(answer.body));
    var action = new URL(form.action, window.location.href).href;
    if (xhr.responseURL && xhr.responseURL !== action) {
      window.history.replaceState(null, "", xhr.responseURL);
    }
    window.scrollTo(0, 0);
  }

  function upload(form) {
    var button = form.querySelector("button[type=submit]:not([hidden])");
    var box = form.querySelector(".upload-progress");
    var bar = box && box.querySelector("progress");
    var text = box && box.querySelector(".upload-progress-text");
    var say = function (words) { if (text) { text.textContent = words; } };
    // A file over the limit is refused before its bytes are sent (the server refuses it too, after reading them).
    var file = form.querySelector("input[type=file]");
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (file && file.files.length && limit && file.files[0].size > limit) {
      if (box) { box.hidden = false; }
      if (bar) { bar.hidden = true; }
      say(form.getAttribute("data-too-large"));
      return;
    }
    if (bar) { bar.hidden = false; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.responseType = "document";
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable && bar) {
        bar.value = Math.round((event.loaded / event.total) * 100);
        say(form.getAttribute("data-sending") + " " + bar.value + "%");
      }
    });
    xhr.upload.addEventListener("load", function () {
      if (bar) { bar.value = 100; }
      say(form.getAttribute("data-storing"));
    });
    xhr.addEventListener("load", function () { showAnswer(form, xhr); });
    var failed = function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      form.removeAttribute("aria-busy");
      say(form.getAttribute("data-failed"));
    };
    xhr.addEventListener("error", failed);
    xhr.addEventListener("abort", failed);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    form.setAttribute("aria-busy", "true");
    if (box) { box.hidden = false; }
    if (bar) { bar.removeAttribute("value"); }  // indeterminate until the first progress event
    say(form.getAttribute("data-sending"));
    xhr.send(new FormData(form));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-upload")) {
      return;
    }
    if (!window.FormData || !window.XMLHttpRequest) {
      return;  // a plain post: no progress, but the upload still works
    }
    event.preventDefault();
    upload(form);
  });

  // ---------------------------------------------------------------- the licence picker

  // Open-data licences (the first group) are shown; the others appear when the search box finds them.
  function enhancePicker(select) {
    var groups = select.querySelectorAll("optgroup");
    var options = Array.prototype.slice.call(select.querySelectorAll("optgroup option"));
    var box = document.createElement("div");
    box.className = "licence-filter";
    var label = document.createElement("label");
    label.className = "label";
    label.htmlFor = select.id + "-filter";
    label.textContent = select.getAttribute("data-filter-label");
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "-filter";
    input.className = "input";
    input.autocomplete = "off";
    input.placeholder = select.getAttribute("data-filter-placeholder") || "";
    input.setAttribute("aria-controls", select.id);
    var none = document.createElement("p");
    none.className = "field-help licence-filter-none";
    none.setAttribute("role", "status");
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(none);
    select.parentNode.insertBefore(box, select);

    function apply() {
      var query = input.value.trim().toLowerCase();
      var shown = 0;
      options.forEach(function (option) {
        var inOthers = option.parentNode !== groups[0];
        var match = query
          ? (option.textContent + " " + option.value).toLowerCase().indexOf(query) !== -1
          : !inOthers || option.selected;
        option.hidden = !match;
        if (match) { shown += 1; }
      });
      Array.prototype.forEach.call(groups, function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      // Searching never chooses: the seller picks from what is shown. A choice the search hides is undone, so a
      // search with no match leaves no licence chosen (and the server asks for one).
      var selected = select.options[select.selectedIndex];
      if (selected && selected.value && selected.hidden) {
        select.value = "";
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      none.textContent = query && !shown ? select.getAttribute("data-no-match") : "";
    }

    input.addEventListener("input", apply);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();  // choosing, not submitting the form
        select.focus();
      }
    });
    apply();
  }

  // ---------------------------------------------------------------- unsaved proposals

  // A form holding something proposed but not saved (a dictionary inferred from a file) asks before the page is
  // left any other way than by saving it.
  function guardUnsaved(form) {
    var saving = false;
    form.addEventListener("submit", function () { saving = true; });
    window.addEventListener("beforeunload", function (event) {
      if (saving) { return undefined; }
      event.preventDefault();
      event.returnValue = form.getAttribute("data-unsaved");
      return form.getAttribute("data-unsaved");
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-licence-picker]"), enhancePicker);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-unsaved]"), guardUnsaved);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
