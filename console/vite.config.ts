/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The bridge serves the built app at /console (runtime/app/console.py), so every asset URL is
// under that base. `npm run dev` proxies the API to a bridge on localhost:8000 (override with
// PRESTA_AX_URL) so the screens can be worked on with hot reload.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  server: {
    proxy: { "/api": process.env.PRESTA_AX_URL ?? "http://127.0.0.1:8000" },
  },
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 1024 },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    // a shared CI machine under load: jsdom start-up alone has taken seconds
    testTimeout: 20000,
  },
});
