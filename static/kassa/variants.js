// The variant picker without a reload: a choice shows that variant's price, stock and picture,
// points Buy now and Add to cart at it, and marks the choices that do not exist or are sold
// out beside the new selection. Without script the choices are plain links to each variant.
(function () {
  "use strict";

  var data = document.getElementById("variants-data");
  var picker = document.getElementById("picker");
  var product = document.getElementById("product");
  if (!data || !picker || !product) return;
  var variants = JSON.parse(data.textContent);
  var words = (document.getElementById("picker-words") || { dataset: {} }).dataset;
  var byId = {};
  variants.forEach(function (v) { byId[v.id] = v; });
  var current = byId[product.dataset.variant];
  if (!current) return;

  function find(options) {
    for (var i = 0; i < variants.length; i++) {
      if (variants[i].options.join("\u0000") === options.join("\u0000")) return variants[i];
    }
    return null;
  }

  function firstWith(index, value) {
    var having = variants.filter(function (v) { return v.options[index] === value; });
    return having.filter(function (v) { return !v.sold_out; })[0] || having[0];
  }

  function show(variant) {
    current = variant;
    product.dataset.variant = variant.id;
    document.getElementById("price").textContent = variant.price;
    var stock = document.getElementById("stock");
    stock.textContent = variant.stock;
    stock.hidden = !variant.stock;
    stock.className = "stock" + (variant.sold_out ? " stock-out" : variant.stock ? " stock-low" : "");
    var image = document.getElementById("variant-image");
    if (image && variant.image) {
      image.classList.remove("placeholder");
      image.src = variant.image;
      image.srcset = variant.srcset;
      image.alt = variant.alt;
      image.width = variant.width;
      image.height = variant.height;
    }
    var form = document.getElementById("add-form");
    if (form) form.action = variant.add_url;
    var quantity = document.getElementById("quantity");
    if (quantity) {
      quantity.disabled = variant.sold_out;
      quantity.max = variant.max;
    }
    var add = document.getElementById("add");
    if (add) add.disabled = variant.sold_out;
    var buy = document.getElementById("buy");
    if (buy) {
      buy.dataset.buyUrl = variant.buy_url;
      buy.disabled = variant.sold_out;
    }
    var pay = document.getElementById("pay-here");
    if (pay) {
      pay.href = variant.pay_url;
      pay.hidden = variant.sold_out;
    }
    mark();
    history.replaceState(null, "", variant.url);
  }

  // Each choice as it stands beside the current selection.
  function mark() {
    picker.querySelectorAll("fieldset[data-option]").forEach(function (fieldset) {
      var index = Number(fieldset.dataset.option);
      fieldset.querySelectorAll("a.choice").forEach(function (link) {
        var wanted = current.options.slice();
        wanted[index] = link.dataset.value;
        var exact = find(wanted);
        var target = exact || firstWith(index, link.dataset.value);
        link.href = target.url;
        link.dataset.variant = target.id;
        link.classList.toggle("choice-missing", !exact);
        link.classList.toggle("choice-sold-out", !!exact && exact.sold_out);
        var note = link.querySelector(".choice-note");
        if (note) {
          var text = !exact ? words.missing : exact.sold_out ? words.soldOut : "";
          note.innerHTML = "";
          if (text) {
            var hidden = document.createElement("span");
            hidden.className = "visually-hidden";
            hidden.textContent = " (" + text + ")";
            note.appendChild(hidden);
          }
        }
        if (current.options[index] === link.dataset.value) {
          link.setAttribute("aria-current", "true");
        } else {
          link.removeAttribute("aria-current");
        }
      });
    });
  }

  picker.addEventListener("click", function (event) {
    var link = event.target.closest("a.choice");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
    var variant = byId[link.dataset.variant];
    if (!variant) return;
    event.preventDefault();
    show(variant);
  });
})();
