"use strict";
// Downloads an export with a progress line: the bundle is streamed as probityd writes it (no length is
// known in advance), so the page counts what has arrived and hands the file to the browser at the end.
(function () {
  for (const link of document.querySelectorAll("a[data-progress]")) {
    const status = document.getElementById(link.dataset.progress);
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const received = status.dataset.received, done = status.dataset.done, failed = status.dataset.failed;
      try {
        const response = await fetch(link.href, { credentials: "same-origin" });
        if (!response.ok) { status.textContent = failed + " (" + response.status + ")"; return; }
        const reader = response.body.getReader();
        const chunks = [];
        let total = 0;
        for (;;) {
          const { done: finished, value } = await reader.read();
          if (finished) break;
          chunks.push(value);
          total += value.length;
          status.textContent = received.replace("{mb}", (total / 1048576).toFixed(1));
        }
        const disposition = response.headers.get("content-disposition") || "";
        const name = (/filename="([^"]+)"/.exec(disposition) || [null, "export"])[1];
        const url = URL.createObjectURL(new Blob(chunks, { type: response.headers.get("content-type") || "" }));
        const save = document.createElement("a");
        save.href = url;
        save.download = name;
        document.body.appendChild(save);
        save.click();
        save.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
        status.textContent = done.replace("{mb}", (total / 1048576).toFixed(1)).replace("{name}", name);
      } catch (error) {
        status.textContent = failed + " (" + error + ")";
      }
    });
  }
})();
