// A product's gallery: a thumbnail shows its picture in the large image's place without leaving
// the page (without script, the thumbnail is a link to the picture itself).
(function () {
  "use strict";
  var gallery = document.getElementById("gallery");
  var image = document.getElementById("variant-image");
  if (!gallery || !image) return;
  gallery.addEventListener("click", function (event) {
    var thumb = event.target.closest("a.gallery-thumb");
    if (!thumb) return;
    event.preventDefault();
    image.classList.remove("placeholder");
    image.src = thumb.getAttribute("href");
    image.srcset = thumb.dataset.srcset;
    image.width = Number(thumb.dataset.width);
    image.height = Number(thumb.dataset.height);
    image.alt = thumb.dataset.alt;
    gallery.querySelectorAll("a.gallery-thumb").forEach(function (other) {
      other.removeAttribute("aria-current");
    });
    thumb.setAttribute("aria-current", "true");
  });
})();
