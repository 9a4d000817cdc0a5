/* dailypapers — progressive enhancement, served from this site (CSP: script-src 'self').
 *
 * Every action is a plain HTML form or link that works without this file. With it:
 * - a form marked data-inplace="replace" is sent with fetch (header X-Inplace: 1) and the server's
 *   HTML fragment replaces the form's root: form.closest(data-inplace-root selector, else the
 *   nearest [data-inplace-root]). An empty fragment removes the root.
 * - data-inplace="append" adds the fragment at the end of the element named by
 *   data-inplace-into, then clears the form (and closes the <details> it sits in).
 * - a link marked data-inplace-get fetches its page as a fragment into its root; a
 *   data-inplace-cancel link inside that fragment puts the old content back.
 * - the theme button switches light/dark (theme.js applies the choice before the first paint).
 * The server side is web/inplace.py. The page never scrolls or reloads; focus stays on the action.
 */
(function () {
  "use strict";

  var status = null;

  function announce(text) {
    if (!text) return;
    if (!status) {
      status = document.createElement("div");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      document.body.appendChild(status);
    }
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 30);
  }

  function rootOf(el) {
    var selector = el.getAttribute("data-inplace-root");
    return (selector && el.closest(selector)) || el.closest("[data-inplace-root]");
  }

  function fragmentOf(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  function showError(anchor, message) {
    var box = anchor.querySelector(":scope > .inplace-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "inplace-error";
      box.setAttribute("role", "alert");
      anchor.appendChild(box);
    }
    box.textContent = message;
  }

  function clearError(anchor) {
    var box = anchor.querySelector(":scope > .inplace-error");
    if (box) box.remove();
  }

  function focusIn(nodes) {
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      if (!(node instanceof Element)) continue;
      var target = node.matches("button, a[href], textarea, input:not([type=hidden])")
        ? node : node.querySelector("button, a[href], textarea, input:not([type=hidden])");
      if (target) { target.focus({ preventScroll: true }); return; }
    }
  }

  function refreshCounts() {
    document.querySelectorAll("[data-count-of]").forEach(function (el) {
      var n = document.querySelectorAll(el.getAttribute("data-count-of")).length;
      el.textContent = String(n);
    });
    document.querySelectorAll("[data-shown-when-empty]").forEach(function (el) {
      el.hidden = document.querySelectorAll(el.getAttribute("data-shown-when-empty")).length > 0;
    });
  }

  // Replace `old` by the nodes of `html`; keep the keyboard focus on the action's new element.
  function swap(old, html) {
    var hadFocus = old.contains(document.activeElement);
    var content = fragmentOf(html);
    var nodes = Array.prototype.slice.call(content.childNodes);
    old.replaceWith(content);
    if (hadFocus) focusIn(nodes);
    return nodes;
  }

  function send(url, options) {
    options.headers = Object.assign({ "X-Inplace": "1" }, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var said = response.headers.get("X-Inplace-Status");
        return { ok: response.ok, status: response.status, text: text,
                 said: said ? decodeURIComponent(said) : "",
                 login: response.headers.get("X-Inplace-Login") };
      });
    });
  }

  function refused(anchor, answer) {
    if (answer.login) { window.location.assign(answer.login); return; }
    showError(anchor, answer.text || "That did not work; please try again.");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    var mode = form.getAttribute("data-inplace");
    if (mode !== "replace" && mode !== "append") return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;  // a double click sends once
    form.setAttribute("aria-busy", "true");
    var body = new URLSearchParams(new FormData(form));
    send(form.action, { method: "POST", body: body }).then(function (answer) {
      form.removeAttribute("aria-busy");
      if (!answer.ok) { refused(form, answer); return; }
      clearError(form);
      if (mode === "replace") {
        var root = rootOf(form);
        if (root) swap(root, answer.text); else window.location.reload();
      } else {
        var into = document.querySelector(form.getAttribute("data-inplace-into"));
        if (!into) { window.location.reload(); return; }
        into.appendChild(fragmentOf(answer.text));
        form.reset();
        var details = form.closest("details");
        if (details) { details.open = false; details.querySelector("summary").focus(); }
      }
      refreshCounts();
      announce(answer.said);
    }, function () {
      // The network failed: send it the plain way, which shows the browser's own error.
      form.removeAttribute("aria-busy");
      form.submit();
    });
  });

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a") : null;
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    if (link.hasAttribute("data-inplace-cancel")) {
      var editing = rootOf(link);
      if (editing && editing.inplaceOriginal) {
        event.preventDefault();
        swap(editing, editing.inplaceOriginal);
      }
      return;
    }
    if (!link.hasAttribute("data-inplace-get")) return;
    var root = rootOf(link);
    if (!root) return;
    event.preventDefault();
    var original = root.outerHTML;
    send(link.href, { method: "GET" }).then(function (answer) {
      if (!answer.ok) { refused(root, answer); return; }
      var nodes = swap(root, answer.text);
      nodes.forEach(function (node) { if (node instanceof Element) node.inplaceOriginal = original; });
      focusIn(nodes.map(function (n) { return n instanceof Element ? n.querySelector("textarea") : null; })
        .filter(Boolean));
    }, function () { window.location.assign(link.href); });
  });

  // Theme: "light", "dark" or nothing (follow the system). theme.js set it before the first paint.
  function currentTheme() {
    var chosen = document.documentElement.getAttribute("data-theme");
    if (chosen) return chosen;
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function wireThemeButton() {
    var button = document.querySelector("[data-theme-toggle]");
    if (!button) return;
    var label = button.querySelector("[data-theme-label]");
    function show() {
      var dark = currentTheme() === "dark";
      button.setAttribute("aria-pressed", dark ? "true" : "false");
      if (label) label.textContent = dark ? "Dark" : "Light";
    }
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { window.localStorage.setItem("dp-theme", next); } catch (e) { /* private mode */ }
      show();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wireThemeButton);
  } else {
    wireThemeButton();
  }
})();
