// Starts Swagger UI on /api/v1/docs (a file, not an inline script: the CSP allows none).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  var unsafe = { POST: true, PUT: true, PATCH: true, DELETE: true };
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // Try it out acts as this visitor: their session cookie, and their CSRF token on writes.
    requestInterceptor: function (request) {
      if (unsafe[(request.method || "GET").toUpperCase()]) {
        request.headers["X-CSRFToken"] = root.dataset.csrfToken;
      }
      return request;
    },
  });
})();
