// A <select data-autosubmit> sends its form when changed (the language picker, the queue's controller
// filter). A file rather than an inline handler, so the Content Security Policy needs no 'unsafe-inline'.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
