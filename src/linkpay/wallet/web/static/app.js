// Progressive enhancement only: approving and denying work without this file.
// Adds passkey sign-in/enrolment, web push subscription and the service worker.
"use strict";
document.documentElement.classList.add("has-js");

function csrf() { return document.body.dataset.csrf || ""; }

async function postJSON(url, body, token) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
    body: JSON.stringify(body || {}),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || "The wallet refused the request.");
  return data;
}

function showError(root, message) {
  const box = root.querySelector("[data-passkey-error]");
  if (box) { box.textContent = message; box.hidden = false; }
}

function setupPasskeySignin() {
  const root = document.querySelector("[data-passkey-signin]");
  if (!root) return;
  if (!window.PublicKeyCredential) { root.hidden = true; return; }  // needs https or localhost
  root.querySelector("#passkey-signin").addEventListener("click", async () => {
    const token = root.dataset.csrfPre;
    try {
      const options = await postJSON("/signin/passkey/options", {}, token);
      const credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      const next = encodeURIComponent(root.dataset.next || "/");
      const result = await postJSON("/signin/passkey/verify?next=" + next, credential.toJSON(), token);
      window.location.assign(result.redirect || "/");
    } catch (err) { showError(root, err.message); }
  });
}

function setupPasskeyRegister() {
  const root = document.querySelector("[data-passkey-register]");
  if (!root) return;
  if (!window.PublicKeyCredential) {
    root.textContent = "Passkeys need the wallet on https (or localhost).";
    return;
  }
  root.querySelector("#passkey-register").addEventListener("click", async () => {
    try {
      const options = await postJSON("/passkeys/options", {}, csrf());
      const credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) });
      const result = await postJSON("/passkeys/register", credential.toJSON(), csrf());
      window.location.assign(result.redirect || "/security");
    } catch (err) { showError(root, err.message); }
  });
}

// Loosening the person's rules: the passkey step-up, then the carried change is posted.
function setupPasskeyStepUp() {
  const form = document.querySelector("[data-passkey-stepup]");
  if (!form) return;
  if (!window.PublicKeyCredential) {
    showError(form, "Passkeys need the wallet on https (or localhost).");
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const options = await postJSON("/rules/confirm/passkey/options", {}, csrf());
      const credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      await postJSON("/rules/confirm/passkey", credential.toJSON(), csrf());
      form.submit();  // the session is freshly confirmed now: the change saves
    } catch (err) { showError(form, err.message); }
  });
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function setupPush() {
  const root = document.querySelector("[data-push]");
  if (!root) return;
  const status = root.querySelector("[data-push-status]");
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    status.textContent = "This browser cannot receive push notifications.";
    return;
  }
  root.querySelector("#push-subscribe").addEventListener("click", async () => {
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") throw new Error("Notifications are blocked for this site.");
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(root.dataset.vapidKey) });
      await postJSON("/notifications/push/subscribe", subscription.toJSON(), csrf());
      status.textContent = "This browser will be notified.";
    } catch (err) { status.textContent = err.message; }
  });
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
document.addEventListener("DOMContentLoaded", () => {
  setupPasskeySignin();
  setupPasskeyRegister();
  setupPasskeyStepUp();
  setupPush();
});

// Receipts: the Print button (CSP forbids inline handlers).
document.addEventListener("DOMContentLoaded", () => {
  const print = document.querySelector("[data-print]");
  if (print) print.addEventListener("click", () => window.print());
});
