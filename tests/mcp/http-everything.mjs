// Starts @modelcontextprotocol/server-everything over Streamable HTTP on a free port of this
// machine's and prints "PORT <n>" on stdout once it accepts connections.
import net from "node:net";

const free = () =>
  new Promise((resolve) => {
    const probe = net.createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
const accepts = (port) =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("connect", () => socket.end(() => resolve(true)));
    socket.on("error", () => resolve(false));
  });

const port = await free();
process.env.PORT = String(port);
await import("./node_modules/@modelcontextprotocol/server-everything/dist/transports/streamableHttp.js");
for (let i = 0; i < 200 && !(await accepts(port)); i++) await new Promise((r) => setTimeout(r, 25));
process.stdout.write(`PORT ${port}\n`);
