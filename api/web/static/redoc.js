// ReDoc for /redoc (api/docs.py), started from a file: the CSP allows no inline script.
"use strict";
(function () {
  const root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, {}, root);
})();
