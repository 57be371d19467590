// Mounts Stripe's Payment Element for a SetupIntent and confirms it; Stripe then sends
// the browser back to the wallet's return URL, which records the saved card.
(function () {
  "use strict";
  var form = document.getElementById("stripe-setup");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret });
  elements.create("payment").mount("#payment-element");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    stripe.confirmSetup({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        if (result.error) {
          var box = document.getElementById("stripe-error");
          box.textContent = result.error.message;
          box.hidden = false;
        }
      });
  });
})();
