/* The web book's behaviour: theme toggle, sidebar drawer, copy buttons, search.
   Plain JavaScript, no framework, no network: works from http:// and from file://. */
(function () {
  "use strict";
  var root = document.body.getAttribute("data-root") || "";

  // ---- light/dark theme, remembered across pages -------------------------------------------
  var toggle = document.querySelector(".theme-toggle");
  function currentTheme() { return document.documentElement.getAttribute("data-theme"); }
  function showTheme() { toggle.setAttribute("aria-pressed", String(currentTheme() === "dark")); }
  if (toggle) {
    showTheme();
    toggle.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      document.documentElement.setAttribute("data-theme", next);
      try { localStorage.setItem("book-theme", next); } catch (e) { /* storage disabled */ }
      showTheme();
    });
  }

  // ---- sidebar as a drawer on small screens ----------------------------------------------
  var sidebarButton = document.querySelector(".sidebar-toggle");
  var sidebar = document.getElementById("sidebar");
  if (sidebarButton && sidebar) {
    sidebarButton.addEventListener("click", function () {
      var open = sidebar.classList.toggle("open");
      sidebarButton.setAttribute("aria-expanded", String(open));
    });
  }

  // ---- copy buttons on code blocks ------------------------------------------------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }
  document.querySelectorAll("div.sourceCode").forEach(function (block) {
    var pre = block.querySelector("pre");
    if (!pre) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code to clipboard");
    button.addEventListener("click", function () {
      copyText(pre.innerText).then(function () {
        button.textContent = "Copied";
      }, function () {
        button.textContent = "Press Ctrl+C";
      });
      setTimeout(function () { button.textContent = "Copy"; }, 1800);
    });
    block.appendChild(button);
  });

  // ---- search: MiniSearch over a prebuilt document list loaded by a <script> tag ---------------
  var input = document.getElementById("search-input");
  var results = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var docs = window.BOOK_SEARCH_DOCS || [];
  var index = null;

  function getIndex() {
    if (index === null && window.MiniSearch) {
      index = new window.MiniSearch({
        fields: ["title", "text", "chapter"],
        storeFields: ["title", "chapter", "url", "text"],
        searchOptions: { boost: { title: 3, chapter: 1.5 }, prefix: true, fuzzy: 0.15 }
      });
      index.addAll(docs);
    }
    return index;
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function snippet(text, terms) {
    var lower = text.toLowerCase();
    var at = -1;
    for (var i = 0; i < terms.length && at < 0; i++) { at = lower.indexOf(terms[i].toLowerCase()); }
    var start = Math.max(0, at - 60);
    var piece = (start > 0 ? "\u2026" : "") + text.slice(start, start + 180) + (text.length > start + 180 ? "\u2026" : "");
    var html = escapeHtml(piece);
    terms.forEach(function (term) {
      if (term.length < 2) { return; }
      var re = new RegExp("(" + term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + ")", "ig");
      html = html.replace(re, "<mark>$1</mark>");
    });
    return html;
  }

  function render(query) {
    var engine = getIndex();
    if (!engine || query.trim().length < 2) {
      results.hidden = true;
      results.innerHTML = "";
      status.textContent = "";
      return;
    }
    var hits = engine.search(query, { combineWith: "AND" });
    if (hits.length === 0) { hits = engine.search(query); }
    hits = hits.slice(0, 12);
    if (hits.length === 0) {
      results.innerHTML = '<p class="empty">No results for \u201c' + escapeHtml(query) + "\u201d</p>";
    } else {
      results.innerHTML = "<ul>" + hits.map(function (hit) {
        return '<li><a href="' + escapeHtml(root + hit.url) + '">' +
          '<span class="result-title">' + escapeHtml(hit.title) + "</span>" +
          '<span class="result-chapter">' + escapeHtml(hit.chapter) + "</span>" +
          '<span class="result-snippet">' + snippet(hit.text, hit.terms) + "</span></a></li>";
      }).join("") + "</ul>";
    }
    results.hidden = false;
    status.textContent = hits.length + (hits.length === 1 ? " result" : " results");
  }

  if (input && results) {
    input.addEventListener("input", function () { render(input.value); });
    input.addEventListener("keydown", function (event) {
      var first = results.querySelector("a");
      if (event.key === "Enter" && first) { window.location.href = first.href; }
      if (event.key === "ArrowDown" && first) { event.preventDefault(); first.focus(); }
      if (event.key === "Escape") { input.value = ""; render(""); }
    });
    results.addEventListener("keydown", function (event) {
      var links = Array.prototype.slice.call(results.querySelectorAll("a"));
      var at = links.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
      if (event.key === "Escape") { input.focus(); results.hidden = true; }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "/" && document.activeElement !== input) { event.preventDefault(); input.focus(); }
    });
    document.addEventListener("click", function (event) {
      if (!results.contains(event.target) && event.target !== input) { results.hidden = true; }
    });
  }

  // ---- highlight the section being read in the on-page contents --------------------------------
  var tocLinks = document.querySelectorAll(".toc a");
  if (tocLinks.length && "IntersectionObserver" in window) {
    var byId = {};
    tocLinks.forEach(function (a) { byId[decodeURIComponent(a.getAttribute("href").slice(1))] = a; });
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && byId[entry.target.id]) {
          tocLinks.forEach(function (a) { a.classList.remove("current"); });
          byId[entry.target.id].classList.add("current");
        }
      });
    }, { rootMargin: "0px 0px -70% 0px" });
    Object.keys(byId).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { observer.observe(el); }
    });
  }
})();
