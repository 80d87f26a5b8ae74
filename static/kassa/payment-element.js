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
  // What the shop asks before paying (the intent's answer says): e-mail, name, phone, and an
  // address and shipping choice when goods are sent.
  var customer = null;
  var addressElement = null;
  // The amount the Pay button names: a payment for any other (tax added for the address) waits
  // for the customer to see it and press Pay again.
  var agreed = null;
  var token = form.querySelector("input[name=csrfmiddlewaretoken]");

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
      showCustomerFields(data.customer);
      if (customer && customer.needs_address) {
        // Where the goods go; or, nothing sent, the billing address Stripe Tax needs.
        var addressOptions = customer.needs_shipping
          ? { mode: "shipping", allowedCountries: customer.countries }
          : { mode: "billing" };
        // A signed-in customer's last address, to change or keep.
        if (customer.address) addressOptions.defaultValues = customer.address;
        addressElement = elements.create("address", addressOptions);
        addressElement.mount("#address-element");
      }
    } catch (e) {
      giveUp(say("formNotShown", "The card form could not be shown. Please reload the page to try again."));
      return;
    }
    returnUrl = data.return_url;
    loading.hidden = true;
    ready();
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function showCustomerFields(asked) {
    customer = asked || null;
    if (!customer) return;
    var email = byId("pay-email");
    if (customer.email && !email.value) email.value = customer.email;
    // Required only once shown: a hidden required field would stop the Try again button.
    email.required = true;
    byId("pay-phone-row").hidden = !customer.collect_phone;
    byId("pay-phone").required = !!customer.collect_phone;
    // The Address Element asks the name of whoever receives the goods; without one, ours does.
    byId("pay-name-row").hidden = !!customer.needs_address;
    byId("pay-name").required = !customer.needs_address;
    byId("customer-fields").hidden = false;
    byId("shipping-fields").hidden = !customer.needs_address;
    var legend = byId("address-legend");
    if (customer.needs_address && !customer.needs_shipping) legend.textContent = legend.dataset.billing;
    var rates = byId("shipping-rates");
    Array.prototype.forEach.call(rates.querySelectorAll("label"), function (old) { old.remove(); });
    var options = customer.needs_shipping ? customer.shipping_options : [];
    options.forEach(function (option, index) {
      var row = document.createElement("label");
      row.className = "shipping-rate";
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "shipping_rate";
      input.value = String(option.id);
      input.required = true;
      // The intent asks for the cheapest until the customer chooses (the shop sorted them).
      input.checked = index === 0;
      // The totals are the shop's; what is charged is worked out again when the details are sent.
      input.addEventListener("change", function () {
        showTotal(option.total);
        agreed = option.amount;
        label = option.pay_label;
        if (!busy) button.textContent = label;
      });
      row.appendChild(input);
      row.appendChild(document.createTextNode(
        " " + option.name + " — " + option.price + (option.estimate ? " (" + option.estimate + ")" : "")
      ));
      rates.appendChild(row);
    });
    rates.hidden = options.length === 0;
    if (customer.pay_label) label = customer.pay_label;
    agreed = customer.amount;
    showTotal(customer.total);
  }

  function showTotal(total) {
    var shown = byId("pay-total");
    if (shown && total) shown.textContent = total;
  }

  // Send the customer's details and shipping choice to the shop, which puts them (and the
  // amount with that shipping) on the PaymentIntent. False, with the reason shown, if it cannot.
  async function sendDetails() {
    if (!customer) return true;
    var fields = new FormData();
    var name = byId("pay-name").value.trim();
    fields.append("email", byId("pay-email").value.trim());
    fields.append("phone", byId("pay-phone").value.trim());
    fields.append("company", byId("pay-company").value.trim());
    fields.append("tax_id", byId("pay-tax-id").value.trim());
    if (byId("pay-offers").checked) fields.append("offers", "on");
    if (addressElement) {
      var given = await addressElement.getValue();
      if (!given || !given.complete) {
        showError(say("addressIncomplete", "Please complete the shipping address."));
        return false;
      }
      var address = given.value.address || {};
      name = given.value.name || name;
      ["line1", "line2", "postal_code", "city", "state", "country"].forEach(function (key) {
        fields.append(key, address[key] || "");
      });
      var chosen = form.querySelector("input[name=shipping_rate]:checked");
      if (customer.needs_shipping) fields.append("shipping_rate", chosen ? chosen.value : "");
    }
    fields.append("name", name);
    var response, data;
    try {
      response = await fetch(customer.details_url, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
        credentials: "same-origin",
        body: fields,
      });
      data = await response.json().catch(function () { return {}; });
    } catch (e) {
      showError(say("offline", "The shop cannot be reached. Check your connection and try again."));
      return false;
    }
    if (!response.ok) {
      showError(data.error || say("notStarted", "The payment could not be started. Please try again."));
      return false;
    }
    if (data.pay_label) label = data.pay_label;
    showTotal(data.total);
    var notice = byId("pay-tax-notice");
    if (data.tax_notice) {
      notice.textContent = data.tax_notice;
      notice.hidden = false;
    }
    if (data.amount !== agreed) {
      // The tax for the address changed the total: nothing is charged until the customer has
      // seen it and presses Pay again.
      agreed = data.amount;
      return false;
    }
    return true;
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
      if (!(await sendDetails())) {
        ready();
        return;
      }
      // The intent's amount changed at the shop: the Payment Element reads it again.
      if (typeof elements.fetchUpdates === "function") await elements.fetchUpdates();
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
