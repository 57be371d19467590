// Service worker: shows web push notifications and opens the approval page on click.
// It caches nothing: approval pages must always be fresh from the wallet.
"use strict";
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", () => {});  // network only; present so the app is installable

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  const url = typeof data.url === "string" && data.url.startsWith(self.location.origin)
    ? data.url : self.location.origin + "/";
  event.waitUntil(self.registration.showNotification(data.title || "linkpay wallet", {
    body: data.body || "Something needs your attention.", tag: data.tag || undefined,
    icon: "/static/icon-192.png", data: { url }, requireInteraction: true,
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const client of windows) {
      if (client.url === url && "focus" in client) return client.focus();
    }
    return self.clients.openWindow(url);
  })());
});
