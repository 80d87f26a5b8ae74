// Pay on this page: ask the shop for the order's PaymentIntent, show Stripe's Payment Element
// for it, and confirm with Stripe, which then sends the customer to our success page.
(function () {
  "use strict";

  var form = document.getElementById("payment-form");
  if (!form) return;
  // The page's words for what the script says (see base.html), English if they are missing.
  var words = (document.getElementById("kassa-messages") || { dataset: {} }).dataset;
  function say(key, fallback) {
    return words[key] || fallback;
  }
  var button = document.getElementById("pay");
  var loading = document.getElementById("payment-loading");
  var errorBox = document.getElementById("payment-error");
  var label = button.textContent;
  var stripe = null;
  var elements = null;
  var returnUrl = "";
  var busy = false;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function ready() {
    busy = false;
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }

  // Stripe's own words are meant for customers only for card and validation errors.
  function stripeMessage(error) {
    if (error && (error.type === "card_error" || error.type === "validation_error") && error.message) {
      return error.message;
    }
    return say("notCompleted", "The payment could not be completed. Please try again.");
  }

  // Back from Stripe or the success page restores this page as it was left (busy, and for a
  // PaymentIntent that may have moved on): load it afresh instead.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });

  // The PaymentIntent could not be had (Stripe or the shop unreachable): the button asks again.
  function offerRetry(message) {
    loading.hidden = true;
    showError(message);
    ready();
    button.textContent = say("tryAgain", "Try again");
  }

  // Nothing on this page can help (Stripe.js missing or broken): say so and stay disabled.
  function giveUp(message) {
    loading.hidden = true;
    showError(message);
    button.removeAttribute("aria-busy");
  }

  async function load() {
    busy = true;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    loading.hidden = false;
    if (typeof window.Stripe !== "function") {
      giveUp(say("formNotLoaded", "The card form could not be loaded. Check your connection, allow js.stripe.com if a blocker stops it, and reload the page."));
      return;
    }
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    var data;
    try {
      var response = await fetch(form.dataset.intentUrl, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
        credentials: "same-origin",
      });
      data = await response.json().catch(function () { return {}; });
      if (!response.ok || !data.client_secret) {
        offerRetry(data.error || say("notStarted", "The payment could not be started. Please try again."));
        return;
      }
    } catch (e) {
      offerRetry(say("offline", "The shop cannot be reached. Check your connection and try again."));
      return;
    }
    // From now on this is the order's page: a reload or a retry asks for the same order's
    // intent instead of making a new order.
    if (data.intent_url) form.dataset.intentUrl = data.intent_url;
    if (data.pay_url && data.pay_url !== window.location.pathname) {
      window.history.replaceState(null, "", data.pay_url);
    }
    try {
      stripe = window.Stripe(form.dataset.stripeKey);
      // The card form in the page's language (Stripe names languages as the page does: en, ru).
      elements = stripe.elements({ clientSecret: data.client_secret, locale: document.documentElement.lang || "auto" });
      elements.create("payment").mount("#payment-element");
    } catch (e) {
      giveUp(say("formNotShown", "The card form could not be shown. Please reload the page to try again."));
      return;
    }
    returnUrl = data.return_url;
    loading.hidden = true;
    ready();
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (busy) return; // one click, one payment
    errorBox.hidden = true;
    if (!elements) {
      load();
      return;
    }
    busy = true;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = say("paying", "Paying…");
    var result;
    try {
      result = await stripe.confirmPayment({ elements: elements, confirmParams: { return_url: returnUrl } });
    } catch (e) {
      result = { error: {} };
    }
    // Only reached when Stripe could not send the customer on to return_url; otherwise the
    // page is on its way out and the button stays busy.
    if (result && result.error) {
      showError(stripeMessage(result.error));
      ready();
    }
  });

  load();
})();
