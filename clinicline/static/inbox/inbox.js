// The live queue: htmx polls the rows as a passive request (see queue.html). An answer
// that is not the rows fragment (the login page after the session ended, an error page)
// is never swapped into the table: the page reloads, so the server decides what to show.
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (!xhr || xhr.getResponseHeader("X-Clinicline-Fragment") !== "queue") {
    event.detail.shouldSwap = false;
    window.location.reload();
  }
});
document.addEventListener("htmx:responseError", function () { window.location.reload(); });
