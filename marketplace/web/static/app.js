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

// A form shown again with its errors: focus moves to the summary of its errors at load, so a screen reader reads
// them first and the keyboard continues from there (the summary's links lead to each field).
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});

// The role menu (a <details> in the top bar) closes on Escape, returning focus to its button, and when focus
// or a click goes anywhere outside it, so it never stays open over the links beside it.
function closeRoleMenus(except) {
  document.querySelectorAll("details.role-menu[open]").forEach(function (menu) {
    if (menu !== except) {
      menu.removeAttribute("open");
    }
  });
}
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") {
    return;
  }
  var menu = event.target.closest && event.target.closest("details.role-menu[open]");
  if (menu) {
    menu.removeAttribute("open");
    menu.querySelector("summary").focus();
  }
});
document.addEventListener("focusin", function (event) {
  closeRoleMenus(event.target.closest ? event.target.closest("details.role-menu") : null);
});
document.addEventListener("click", function (event) {
  closeRoleMenus(event.target.closest ? event.target.closest("details.role-menu") : null);
});
