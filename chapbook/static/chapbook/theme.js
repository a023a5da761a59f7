// The theme switch in the footer: system, light or dark, remembered in this browser.
// Without JavaScript the site simply follows the system setting.
(function () {
  "use strict";
  var order = ["system", "light", "dark"];
  var labels = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };
  function current() {
    try { return localStorage.getItem("theme") || "system"; } catch (e) { return "system"; }
  }
  function apply(theme) {
    if (theme === "system") { delete document.documentElement.dataset.theme; }
    else { document.documentElement.dataset.theme = theme; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    button.hidden = false;
    button.textContent = labels[current()];
    button.addEventListener("click", function () {
      var next = order[(order.indexOf(current()) + 1) % order.length];
      try {
        if (next === "system") { localStorage.removeItem("theme"); } else { localStorage.setItem("theme", next); }
      } catch (e) { /* private mode: the choice lasts for this page only */ }
      apply(next);
      button.textContent = labels[next];
    });
  });
})();
