// The console's whole client: fetch this page's state when the server says the exercise changed
// (server-sent events), and send each form to the server. No framework, nothing fetched from elsewhere.
(function () {
  "use strict";
  var base = document.body.dataset.base;
  var state = document.getElementById("state");
  var message = document.getElementById("message");
  var pending = false;
  var touched = 0;  // when a player last changed a field on this page's state (not yet submitted)
  var HOLD = 15000;  // a change keeps updates off the page this long, so a choice is never wiped

  function busy() {
    var el = document.activeElement;
    if (Date.now() - touched < HOLD) return true;
    return state && el && state.contains(el) && (el.tagName === "SELECT" || el.tagName === "INPUT");
  }

  function refresh() {
    if (!state) return;
    if (busy()) {
      if (!pending) setTimeout(function () { if (pending) { pending = false; refresh(); } }, HOLD);
      pending = true;
      return;
    }
    fetch(base + "/" + state.dataset.src, { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) { state.innerHTML = html; state.dataset.loaded = String(Date.now()); });
  }

  function say(text, ok) {
    message.textContent = text || "";
    message.className = ok ? "ok" : "bad";
  }

  document.addEventListener("focusout", function () {
    if (pending) { pending = false; setTimeout(refresh, 0); }
  });

  document.addEventListener("change", function (event) {
    if (state && state.contains(event.target)) touched = Date.now();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset.action) return;
    event.preventDefault();
    touched = 0;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    var body = new FormData(form, event.submitter);
    fetch(base + "/" + form.dataset.action, { method: "POST", body: body })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        say(answer.message, answer.ok);
        if (answer.redirect) { window.location.href = answer.redirect; return; }
        refresh();
      })
      .catch(function (err) { say(String(err), false); });
  });

  var kind = document.getElementById("inject-kind");
  if (kind) {
    kind.addEventListener("change", function () {
      var opt = kind.options[kind.selectedIndex];
      document.getElementById("inject-value").value = opt.dataset.value;
      document.getElementById("inject-what").value = opt.dataset.what;
    });
  }

  if (state) {
    var source = new EventSource(base + "/events");
    source.onmessage = refresh;
    refresh();
  }
})();
