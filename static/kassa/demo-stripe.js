// A stand-in for Stripe.js, loaded instead of js.stripe.com when the shop runs demo payments
// (no Stripe keys). It offers what the shop's pages use: Stripe(), elements() with a "payment"
// and an "address" element, and confirmPayment(), which pays at the shop's own demo endpoint.
// It has no redirectToCheckout, so Buy buttons follow the session's URL to the demo Checkout.
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function field(label, input) {
    return el("label", { class: "demo-field" }, [label, input]);
  }

  function paymentElement() {
    var card = el("input", { id: "demo-card-number", name: "demo-card", autocomplete: "off", inputmode: "numeric" });
    card.value = "4242 4242 4242 4242";
    return {
      mount: function (selector) {
        var box = el("div", { class: "demo-card-form" }, [
          el("p", { class: "demo-card-badge" }, ["DEMO card form — no money moves"]),
          field("Card number", card),
          el("p", { class: "demo-card-hint" }, ["Any number pays; 4000 0000 0000 0002 is declined."]),
        ]);
        document.querySelector(selector).appendChild(box);
      },
      cardNumber: function () { return card.value; },
    };
  }

  function addressElement(options) {
    var inputs = {};
    var rows = [];
    [["name", "Full name"], ["line1", "Address"], ["line2", "Address line 2"],
     ["postal_code", "Postal code"], ["city", "City"], ["state", "State / region"]].forEach(function (pair) {
      inputs[pair[0]] = el("input", { name: "demo-" + pair[0], id: "demo-address-" + pair[0] });
      rows.push(field(pair[1], inputs[pair[0]]));
    });
    var country = el("select", { name: "demo-country", id: "demo-address-country" });
    ((options && options.allowedCountries) || ["US"]).forEach(function (code) {
      country.appendChild(el("option", { value: code }, [code]));
    });
    rows.push(field("Country", country));
    return {
      mount: function (selector) {
        document.querySelector(selector).appendChild(el("div", { class: "demo-address-form" }, rows));
      },
      getValue: function () {
        var address = {};
        ["line1", "line2", "postal_code", "city", "state"].forEach(function (key) {
          address[key] = inputs[key].value.trim();
        });
        address.country = country.value;
        var complete = !!(inputs.name.value.trim() && address.line1 && address.city && address.postal_code);
        return Promise.resolve({ complete: complete, value: { name: inputs.name.value.trim(), address: address } });
      },
    };
  }

  window.Stripe = function (publishableKey) {
    return {
      elements: function (options) {
        var made = { clientSecret: options && options.clientSecret, payment: null };
        made.create = function (type, elementOptions) {
          if (type === "payment") return (made.payment = paymentElement());
          if (type === "address") return addressElement(elementOptions);
          throw new Error("The demo Stripe.js has no " + type + " element.");
        };
        return made;
      },
      confirmPayment: async function (args) {
        var elements = args.elements;
        var response = await fetch("/demo-stripe/js/confirm/", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ client_secret: elements.clientSecret, card: elements.payment.cardNumber() }),
        });
        var data = await response.json().catch(function () { return {}; });
        if (!response.ok) return { error: (data && data.error) || { message: "The payment failed." } };
        var back = args.confirmParams.return_url;
        back += (back.indexOf("?") < 0 ? "?" : "&") + "payment_intent=" + encodeURIComponent(data.id) +
          "&payment_intent_client_secret=" + encodeURIComponent(elements.clientSecret) +
          "&redirect_status=succeeded";
        window.location.assign(back);
        return new Promise(function () {}); // the page is on its way out, as with Stripe.js
      },
    };
  };
})();
