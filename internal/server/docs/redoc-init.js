Redoc.init("/api/openapi.json", { hideDownloadButton: false }, document.getElementById("redoc"));
