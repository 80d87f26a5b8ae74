// Buy buttons: ask the shop for a Checkout Session, then hand the customer to Stripe Checkout.
// Stripe.js v3 still has redirectToCheckout; newer Stripe.js versions removed it, so the
// session's own URL is the fallback (also used when Stripe.js failed to load at all).
(function () {
  "use strict";

  // The page's words for what the script says (see base.html), English if they are missing.
  var words = (document.getElementById("kassa-messages") || { dataset: {} }).dataset;
  function say(key, fallback) {
    return words[key] || fallback;
  }

  // How often a busy shop's "try again in a moment" is followed before the customer is told.
  var MAX_BUSY_TRIES = 8;

  function start(button) {
    var errorBox = document.getElementById(button.dataset.errorId || "buy-error");
    var label = button.textContent;
    // The buyer's e-mail, where the cart asks for it (gift cards pay all: no Stripe page will).
    var emailBox = button.dataset.emailFrom && document.getElementById(button.dataset.emailFrom);
    if (emailBox) {
      emailBox.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          button.click();
        }
      });
    }

    function ready() {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
    }

    function fail(message) {
      errorBox.textContent = message;
      errorBox.hidden = false;
      ready();
    }

    // Back from Stripe Checkout restores this page from the back/forward cache as it was left:
    // busy and disabled. Make the button usable again.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) ready();
    });

    button.addEventListener("click", async function () {
      if (button.disabled) return; // one click, one checkout
      if (emailBox && !emailBox.reportValidity()) return; // the browser says what is wrong
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = say("opening", "Opening payment…");
      errorBox.hidden = true;

      // Buy now buys the quantity in the box beside it (the item page's).
      var url = button.dataset.buyUrl;
      var box = button.dataset.quantityFrom && document.getElementById(button.dataset.quantityFrom);
      if (box && box.value) {
        url += (url.indexOf("?") < 0 ? "?" : "&") + "quantity=" + encodeURIComponent(box.value);
      }

      // The e-mail is posted, never put in the URL (addresses stay out of logs).
      var request = { headers: { Accept: "application/json" }, credentials: "same-origin" };
      if (emailBox) {
        var token = document.querySelector("input[name=csrfmiddlewaretoken]");
        request.method = "POST";
        request.headers["X-CSRFToken"] = token ? token.value : "";
        request.body = new URLSearchParams({ email: emailBox.value.trim() });
      }

      var data;
      try {
        var response;
        // A 503 with Retry-After: many customers are paying at once and the shop paces its
        // calls to Stripe. Nothing was started, so asking again later is safe: wait in line.
        for (var tries = 0; ; tries++) {
          response = await fetch(url, request);
          var wait = parseInt(response.headers.get("Retry-After") || "", 10);
          if (response.status !== 503 || !(wait > 0) || tries >= MAX_BUSY_TRIES) break;
          button.textContent = say("busy", "Many customers are paying right now. You are in line…");
          await new Promise(function (resolve) { setTimeout(resolve, Math.min(wait, 10) * 1000); });
        }
        data = await response.json().catch(function () { return {}; });
        if (!response.ok || !(data.id || data.url)) {
          fail(data.error || say("notStarted", "The payment could not be started. Please try again."));
          return;
        }
      } catch (e) {
        fail(say("offline", "The shop cannot be reached. Check your connection and try again."));
        return;
      }

      if (!data.id) {
        // Paid already, by gift cards alone: no Checkout, straight to the success page.
        window.location.assign(data.url);
        return;
      }
      try {
        var stripe = typeof window.Stripe === "function" ? window.Stripe(button.dataset.stripeKey) : null;
        if (stripe && typeof stripe.redirectToCheckout === "function") {
          var result = await stripe.redirectToCheckout({ sessionId: data.id });
          // Only reached when the redirect failed.
          if (result && result.error) fail(result.error.message || say("checkoutFailed", "Stripe Checkout could not be opened."));
          return;
        }
      } catch (e) {
        // A Stripe.js that throws (a bad key, a removed method): the session's URL still works.
      }
      if (data.url) {
        window.location.assign(data.url);
        return;
      }
      fail(say("checkoutFailed", "Stripe Checkout could not be opened. Please try again."));
    });
  }

  document.querySelectorAll("button[data-buy-url]").forEach(start);
})();
