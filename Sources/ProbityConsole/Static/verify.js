"use strict";
// Checks, in this browser and without trusting the server that sent the page, that the entry shown is in
// the log: SHA-256(0x00 || entry bytes) is its leaf hash (RFC 6962), the inclusion proof leads from that
// leaf to the checkpoint's root, and the checkpoint note carries a valid Ed25519 signature by the verifier
// key the user gives (C2SP signed-note: name+keyid+base64(0x01 || key), keyid = SHA-256(name "\n" 0x01 key)[:4]).
(function () {
  const data = document.getElementById("proof-data");
  const button = document.getElementById("verify");
  const field = document.getElementById("vkey");
  const keep = document.getElementById("keep-key");
  const result = document.getElementById("verify-result");
  if (!data || !button) return;
  const storageKey = "probity.vkey";
  const kept = window.localStorage.getItem(storageKey);
  if (kept) { field.value = kept; keep.checked = true; }

  const bytes = (text) => new TextEncoder().encode(text);
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) { out.set(p, offset); offset += p.length; }
    return out;
  };
  const sha256 = async (data) => new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  // RFC 9162 2.1.3.2: the root an inclusion proof leads to from `leaf` at `index` in a tree of `size`.
  async function rootFromProof(index, size, leaf, proof) {
    if (index >= size) return null;
    let fn = index, sn = size - 1n, r = leaf;
    for (const p of proof) {
      if (sn === 0n) return null;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256(concat([1], p, r));
        if ((fn & 1n) === 0n) { while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; } }
      } else {
        r = await sha256(concat([1], r, p));
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n ? r : null;
  }

  function show(ok, message) {
    result.textContent = (ok ? "✔ " : "✖ ") + message;
    result.className = ok ? "status status-ok" : "status status-bad";
  }

  button.addEventListener("click", async () => {
    const vkey = field.value.trim();
    if (keep.checked) window.localStorage.setItem(storageKey, vkey); else window.localStorage.removeItem(storageKey);
    try {
      if (!crypto.subtle) { show(false, data.dataset.msgUnsupported); return; }
      // The verifier key.
      const parts = vkey.split("+");
      if (parts.length < 3 || !/^[0-9a-f]{8}$/.test(parts[1])) { show(false, data.dataset.msgKey); return; }
      const name = parts[0], keyID = parts[1], keyBytes = fromBase64(parts.slice(2).join("+"));
      if (keyBytes.length !== 33 || keyBytes[0] !== 1) { show(false, data.dataset.msgKey); return; }
      const derived = hex((await sha256(concat(bytes(name + "\n"), keyBytes))).slice(0, 4));
      if (derived !== keyID) { show(false, data.dataset.msgKey); return; }
      // The checkpoint: its signed text, its size and root, and the signature line of that key.
      const note = data.dataset.checkpoint;
      const split = note.indexOf("\n\n");
      const text = note.slice(0, split + 1);
      const lines = text.split("\n");
      const origin = lines[0], size = BigInt(lines[1]), root = fromBase64(lines[2]);
      const signatureLine = note.slice(split + 2).split("\n").find((line) => line.startsWith("— " + name + " "));
      const signature = signatureLine ? fromBase64(signatureLine.slice(("— " + name + " ").length)) : null;
      if (!signature || signature.length !== 68 || hex(signature.slice(0, 4)) !== keyID) {
        show(false, data.dataset.msgSignature); return;
      }
      const key = await crypto.subtle.importKey("raw", keyBytes.slice(1), { name: "Ed25519" }, false, ["verify"]);
      if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signature.slice(4), bytes(text)))) {
        show(false, data.dataset.msgSignature); return;
      }
      // The entry: its leaf hash, then the proof up to the signed root.
      const leaf = await sha256(concat([0], fromBase64(data.dataset.entry)));
      if (hex(leaf) !== document.getElementById("leaf-hash").textContent.trim()) {
        show(false, data.dataset.msgLeaf); return;
      }
      const proof = data.dataset.hashes.split(" ").filter((h) => h).map(fromBase64);
      const computed = await rootFromProof(BigInt(data.dataset.index), size, leaf, proof);
      if (!computed || !equal(computed, root)) { show(false, data.dataset.msgPath); return; }
      show(true, data.dataset.msgOk.replace("{origin}", origin).replace("{size}", String(size)));
    } catch (error) {
      show(false, data.dataset.msgUnsupported + " (" + error + ")");
    }
  });
})();
