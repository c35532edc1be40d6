/* The self-quiz (chapters/self-quiz.qmd): one question at a time, reveal, mark, come back.
 *
 * The page holds one hidden `.quiz-card` div per question (rendered by pandoc, so answers keep
 * their math and code) with data-id, data-topic and data-level, and a JSON element
 * #quiz-config whose `schedule` comes from llmprep.interview.quiz: the Leitner boxes, their
 * gaps in cards within a session and in days across sessions. This script only follows them:
 *
 *   unknown -> box 0, shaky -> box 1, known -> one box up, at least box 2;
 *   next card: a missed card whose in-session gap has passed, else a new card (bank order),
 *   else a card due today (lowest box first), else a waiting card early.
 *
 * Progress lives in localStorage under schedule.storageKey (versioned), keyed by question id,
 * so it survives reloads and works from file://. No network, no dependencies.
 */
(function () {
  "use strict";

  var app = document.getElementById("quiz-app");
  var configNode = document.getElementById("quiz-config");
  if (!app || !configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var S = config.schedule;

  var stage = document.getElementById("quiz-stage");
  var status = document.getElementById("quiz-status");
  var revealButton = document.getElementById("quiz-reveal");
  var markButtons = Array.prototype.slice.call(app.querySelectorAll("[data-mark]"));
  var progress = document.getElementById("quiz-progress");
  var resetButton = document.getElementById("quiz-reset");
  var confirmBox = document.getElementById("quiz-confirm");
  var confirmYes = document.getElementById("quiz-reset-yes");
  var confirmNo = document.getElementById("quiz-reset-no");
  var filters = document.getElementById("quiz-filters");

  // Cards: move every hidden card into the stage, in page (bank) order.
  var cards = Array.prototype.slice.call(document.querySelectorAll(".quiz-card"));
  var byId = {};
  cards.forEach(function (card) {
    stage.appendChild(card);
    byId[card.getAttribute("data-id")] = card;
  });

  // ---------------------------------------------------------------------------------------
  // storage

  function today() {
    var now = new Date();
    return Math.floor((now.getTime() - now.getTimezoneOffset() * 60000) / 86400000);
  }

  function empty() {
    return { version: S.version, cards: {}, session: { day: today(), seen: 0 }, filters: null };
  }

  function load() {
    var data = null;
    try { data = JSON.parse(window.localStorage.getItem(S.storageKey) || "null"); }
    catch (e) { data = null; }
    if (!data || data.version !== S.version || typeof data.cards !== "object") { data = empty(); }
    if (!data.session || data.session.day !== today()) {
      // A new day is a new session: nothing is waiting to come back within it.
      data.session = { day: today(), seen: 0 };
      Object.keys(data.cards).forEach(function (id) { data.cards[id].again = null; });
    }
    return data;
  }

  var state = load();

  function save() {
    try { window.localStorage.setItem(S.storageKey, JSON.stringify(state)); }
    catch (e) { /* storage full or disabled: the quiz still works for this visit */ }
  }

  // ---------------------------------------------------------------------------------------
  // the schedule (the same rules as llmprep.interview.quiz)

  function boxAfter(box, mark) {
    if (mark === "known") {
      var up = (box === null || box === undefined ? -1 : box) + 1;
      return Math.min(Math.max(up, S.knownMinBox), S.boxes - 1);
    }
    return S.markBox[mark];
  }

  function review(id, mark) {
    var old = state.cards[id] || null;
    var box = boxAfter(old ? old.box : null, mark);
    var gap = S.boxSessionGap[box];
    var seen = state.session.seen;
    state.cards[id] = {
      box: box,
      due: today() + S.boxDays[box],
      again: gap === null ? null : seen + gap,
      reviews: (old ? old.reviews : 0) + 1,
      last: mark
    };
  }

  function nextCard(order) {
    var seen = state.session.seen, day = today();
    var best = null, i, id, c;
    for (i = 0; i < order.length; i++) {  // 1. a missed card whose gap has passed
      c = state.cards[order[i]];
      if (c && c.again !== null && c.again <= seen && (best === null || c.again < best.again)) {
        best = { id: order[i], again: c.again };
      }
    }
    if (best) { return best.id; }
    for (i = 0; i < order.length; i++) {  // 2. a card never seen
      if (!state.cards[order[i]]) { return order[i]; }
    }
    for (i = 0; i < order.length; i++) {  // 3. due today: lowest box, then earliest due
      id = order[i]; c = state.cards[id];
      if (c.again === null && c.due <= day &&
          (best === null || c.box < best.box || (c.box === best.box && c.due < best.due))) {
        best = { id: id, box: c.box, due: c.due };
      }
    }
    if (best) { return best.id; }
    for (i = 0; i < order.length; i++) {  // 4. nothing else: a waiting card, early
      c = state.cards[order[i]];
      if (c.again !== null && (best === null || c.again < best.again)) {
        best = { id: order[i], again: c.again };
      }
    }
    return best ? best.id : null;
  }

  // ---------------------------------------------------------------------------------------
  // selection

  function checked(name) {
    return Array.prototype.slice.call(filters.querySelectorAll('input[name="' + name + '"]'))
      .filter(function (box) { return box.checked; })
      .map(function (box) { return box.value; });
  }

  function restoreFilters() {
    if (!state.filters) { return; }
    ["topic", "level"].forEach(function (name) {
      var wanted = state.filters[name] || [];
      filters.querySelectorAll('input[name="' + name + '"]').forEach(function (box) {
        box.checked = wanted.indexOf(box.value) >= 0;
      });
    });
  }

  function selection() {
    var topics = checked("topic"), levels = checked("level");
    return cards
      .filter(function (card) {
        return topics.indexOf(card.getAttribute("data-topic")) >= 0 &&
          levels.indexOf(card.getAttribute("data-level")) >= 0;
      })
      .map(function (card) { return card.getAttribute("data-id"); });
  }

  // ---------------------------------------------------------------------------------------
  // the view

  var current = null;

  function describe(id) {
    var c = state.cards[id];
    if (!c) { return "new"; }
    return "last marked " + c.last + ", box " + (c.box + 1) + " of " + S.boxes;
  }

  function renderProgress(order) {
    var counts = { fresh: 0, due: 0 }, boxes = [], day = today(), i;
    for (i = 0; i < S.boxes; i++) { boxes.push(0); }
    order.forEach(function (id) {
      var c = state.cards[id];
      if (!c) { counts.fresh += 1; return; }
      boxes[c.box] += 1;
      if (c.again !== null ? c.again <= state.session.seen : c.due <= day) { counts.due += 1; }
    });
    progress.textContent = "";
    var summary = document.createElement("p");
    summary.textContent = order.length + " questions selected: " + counts.fresh + " new, " +
      counts.due + " due now. Seen today: " + state.session.seen + ".";
    progress.appendChild(summary);
    var list = document.createElement("ul");
    list.className = "quiz-boxes";
    list.setAttribute("aria-label", "Questions per box");
    boxes.forEach(function (n, b) {
      var item = document.createElement("li");
      item.setAttribute("data-box", String(b));
      var wait = S.boxSessionGap[b] !== null
        ? "back after " + S.boxSessionGap[b] + " cards"
        : "back in " + S.boxDays[b] + " day" + (S.boxDays[b] === 1 ? "" : "s");
      item.textContent = "Box " + (b + 1) + " (" + wait + "): " + n;
      list.appendChild(item);
    });
    progress.appendChild(list);
  }

  function show(id) {
    cards.forEach(function (card) { card.hidden = true; });
    current = id;
    var order = selection();
    renderProgress(order);
    if (id === null) {
      stage.setAttribute("data-empty", "true");
      status.textContent = order.length === 0
        ? "No questions match: choose at least one topic and one level."
        : "Nothing is due in this selection. Come back tomorrow, or widen the selection.";
      revealButton.disabled = true;
      setMarks(false);
      return;
    }
    stage.removeAttribute("data-empty");
    var card = byId[id];
    card.querySelector(".quiz-answer").hidden = true;
    card.hidden = false;
    revealButton.disabled = false;
    revealButton.setAttribute("aria-expanded", "false");
    setMarks(false);
    status.textContent = "Question " + (order.indexOf(id) + 1) + " of " + order.length +
      " (" + card.getAttribute("data-topic") + ", " + card.getAttribute("data-level") + "; " +
      describe(id) + ").";
  }

  function setMarks(enabled) {
    markButtons.forEach(function (button) { button.disabled = !enabled; });
  }

  function reveal() {
    if (current === null) { return; }
    byId[current].querySelector(".quiz-answer").hidden = false;
    revealButton.disabled = true;
    revealButton.setAttribute("aria-expanded", "true");
    setMarks(true);
    markButtons[0].focus();
  }

  function mark(kind) {
    if (current === null || markButtons[0].disabled) { return; }
    state.session.seen += 1;
    review(current, kind);
    save();
    show(nextCard(selection()));
    if (!revealButton.disabled) { revealButton.focus(); }
  }

  // ---------------------------------------------------------------------------------------
  // events

  revealButton.addEventListener("click", reveal);
  markButtons.forEach(function (button) {
    button.addEventListener("click", function () { mark(button.getAttribute("data-mark")); });
  });
  filters.addEventListener("submit", function (event) { event.preventDefault(); });
  filters.addEventListener("change", function () {
    state.filters = { topic: checked("topic"), level: checked("level") };
    save();
    show(nextCard(selection()));
  });
  resetButton.addEventListener("click", function () {
    confirmBox.hidden = false;
    confirmNo.focus();
  });
  confirmNo.addEventListener("click", function () {
    confirmBox.hidden = true;
    resetButton.focus();
  });
  confirmYes.addEventListener("click", function () {
    var kept = state.filters;
    state = empty();
    state.filters = kept;
    save();
    confirmBox.hidden = true;
    show(nextCard(selection()));
    resetButton.focus();
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
                   target.isContentEditable)) { return; }
    var keys = { "1": "unknown", "2": "shaky", "3": "known" };
    if ((event.key === "a" || event.key === "A") && !revealButton.disabled) {
      event.preventDefault();
      reveal();
    } else if (keys[event.key] && !markButtons[0].disabled) {
      event.preventDefault();
      mark(keys[event.key]);
    }
  });

  restoreFilters();
  filters.hidden = false;
  app.querySelector(".quiz-controls").hidden = false;
  app.querySelector(".quiz-reset").hidden = false;
  show(nextCard(selection()));
}());
