// Kudos without a page reload. Without JavaScript the buttons are plain POST forms that
// redirect back with a message; this only sends the same form with fetch and updates the
// count in place. Any failure to reach the server falls back to the ordinary submit.
(function () {
  "use strict";
  function setUp(box) {
    var status = box.querySelector("[data-kudos-status]");
    box.querySelectorAll("form[data-kudos-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.fetch || !window.FormData) return;
        event.preventDefault();
        var button = form.querySelector("button");
        if (button) button.disabled = true;
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
        }).then(function (response) {
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        }).then(function (result) {
          var count = box.querySelector('[data-kudos-count="' + form.dataset.kudosForm + '"]');
          if (count && typeof result.data.kudos === "number") count.textContent = String(result.data.kudos);
          var names = box.querySelector(".kudos-names");
          // Rendered and escaped by the server, like the rest of the page.
          if (names && typeof result.data.names_html === "string") names.innerHTML = result.data.names_html;
          if (status) status.textContent = result.data.message || "";
          if (button && result.ok) button.textContent = button.textContent + " ✓";
        }).catch(function () {
          form.submit();
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-kudos]").forEach(setUp);
  });
})();
