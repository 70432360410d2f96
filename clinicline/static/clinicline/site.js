// Idle screens go back to the login. The server ends a session after the practice's idle
// limit; this page tells the server about keyboard and mouse activity (at most once a
// minute, so typing a long note is activity) and reloads itself once the limit has passed
// with none, so no PHI stays on an unattended screen.
(function () {
  var limit = parseInt(document.body.dataset.idleSeconds || "0", 10);
  var keepalive = document.body.dataset.keepalive;
  if (!limit) return;
  var timer, lastPing = Date.now();
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () { window.location.reload(); }, (limit + 2) * 1000);
    if (keepalive && Date.now() - lastPing > 60000) {
      lastPing = Date.now();
      fetch(keepalive, { credentials: "same-origin" });
    }
  }
  ["keydown", "mousedown", "touchstart"].forEach(function (e) { document.addEventListener(e, arm, true); });
  arm();
})();

// "Print" buttons (the script binder): the browser's own print dialog.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
