// A CSV file input (app/upload.py): the page checks the file's size before anything is sent, and
// sends a file within the limit in chunks (each well under the server's message limit), as
// messages: {kind: "start", serial, name, size}, {kind: "chunk", serial, index, data (base64)}...,
// {kind: "end", serial, chunks}. A file over the limit is announced ("start") and not sent.

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export function render({ model, el }) {
  const input = document.createElement("input");
  input.type = "file";
  input.accept = model.accept;
  input.className = "lab-upload";
  input.style.cssText = "width:100%; font:inherit;";
  el.appendChild(input);
  let serial = 0;

  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    const mine = ++serial;
    model.send_msg({kind: "start", serial: mine, name: file.name, size: file.size});
    if (file.size <= model.max_bytes) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      let chunks = 0;
      for (let at = 0; at < bytes.length; at += model.chunk_bytes, chunks++) {
        const data = base64(bytes.subarray(at, at + model.chunk_bytes));
        model.send_msg({kind: "chunk", serial: mine, index: chunks, data});
      }
      model.send_msg({kind: "end", serial: mine, chunks});
    }
    input.value = "";  // the same file chosen again is a new upload
  });
}
