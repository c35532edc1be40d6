/* The presenter handout: each slide with its speaker notes beneath it, on pages of one size.
   The builder runs this in reveal.js's print view (?print-pdf&showNotes=true) once reveal has
   fired "pdf-ready". reveal.js lays the notes over the bottom of the slide, hiding content; this
   moves them below the slide and makes every page tall enough for the longest notes.
   Returns the page size in CSS pixels, for the PDF printer. */
(function () {
  "use strict";
  var pages = Array.prototype.slice.call(document.querySelectorAll(".reveal .pdf-page"));
  if (pages.length === 0) { return null; }
  var width = pages[0].offsetWidth;
  var slideHeight = pages[0].offsetHeight;
  var tallest = 0;
  pages.forEach(function (page) {
    var notes = page.querySelector(".speaker-notes-pdf");
    if (notes) {
      notes.style.position = "absolute";
      notes.style.left = "0px";
      notes.style.top = slideHeight + "px";
      notes.style.bottom = "auto";
      notes.style.width = width + "px";
      tallest = Math.max(tallest, notes.offsetHeight);
    }
    var number = page.querySelector(".slide-number-pdf");
    if (number) {
      number.style.top = (slideHeight - 36) + "px";
      number.style.bottom = "auto";
    }
  });
  var height = slideHeight + Math.max(tallest + 24, Math.round(slideHeight / 2));
  pages.forEach(function (page) { page.style.height = height + "px"; });
  var style = document.createElement("style");
  style.textContent = "@page{size:" + width + "px " + height + "px; margin: 0px;}";
  document.head.appendChild(style);
  return { width: width, height: height };
})();
