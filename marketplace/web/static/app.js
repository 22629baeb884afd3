// Page behaviour that used to live in inline handlers: the Content-Security-Policy allows scripts from files only.
"use strict";

// A form with data-confirm="Question?" is submitted only if the user confirms.
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute("data-confirm");
  if (question !== null && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A field with data-select-on-focus selects its whole value when focused (a secret shown once, to copy).
document.addEventListener("focusin", function (event) {
  if (event.target.hasAttribute && event.target.hasAttribute("data-select-on-focus")) {
    event.target.select();
  }
});
