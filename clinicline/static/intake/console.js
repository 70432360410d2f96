// The agent console, keyboard first. Digits pick the call type (outside a text field);
// on a triage question, Y or N answers it and moves to the next; follow-up questions show
// only once the question they follow is answered yes (the server asks the same way, and
// drops the answer to a follow-up whose question was not yes).
(function () {
  var root = document.querySelector("[data-console]");
  if (!root) return;

  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      (el.tagName === "INPUT" && el.type !== "radio" && el.type !== "checkbox"));
  }

  function questions() {
    return Array.prototype.slice.call(root.querySelectorAll("fieldset[data-question]"));
  }

  function answeredYes(id) {
    var yes = root.querySelector("fieldset[data-question='" + id + "'] input[value='yes']");
    return !!(yes && yes.checked && !yes.closest("fieldset").hidden);
  }

  function refresh() {
    // In order: a follow-up's own follow-ups come after it in the protocol.
    questions().forEach(function (fs) {
      var parent = fs.dataset.askIf;
      if (!parent) return;
      var show = answeredYes(parent);
      fs.hidden = !show;
      fs.querySelectorAll("input").forEach(function (input) {
        input.disabled = !show;
      });
    });
  }

  function nextAfter(fs) {
    var all = questions().filter(function (q) { return !q.hidden; });
    var next = all[all.indexOf(fs) + 1];
    if (next) { next.querySelector("input").focus(); return; }
    var button = root.querySelector("form.call button[type=submit]");
    if (button) button.focus();
  }

  root.addEventListener("change", function (event) {
    if (event.target.type === "radio") refresh();
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    var key = event.key.toLowerCase();
    if (target.type === "radio" && (key === "y" || key === "n")) {
      var fs = target.closest("fieldset[data-question]");
      var choice = fs && fs.querySelector("input[value='" + (key === "y" ? "yes" : "no") + "']");
      if (!choice) return;
      event.preventDefault();
      choice.checked = true;
      refresh();
      nextAfter(fs);
      return;
    }
    if (!typing(target) && /^[1-9]$/.test(event.key)) {
      var link = root.querySelector("a[data-shortcut='" + event.key + "']");
      if (link) { event.preventDefault(); link.click(); }
    }
  });

  refresh();
})();
