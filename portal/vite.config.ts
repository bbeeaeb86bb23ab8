/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The gateway (make run) listens on 8080 unless CASEFOLD_GATEWAY_PORT moves it.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "frame-src 'self' about:; object-src 'none'; base-uri 'none'";
const gateway = `http://127.0.0.1:${process.env.CASEFOLD_GATEWAY_PORT ?? "8080"}`;

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: { "/api": { target: gateway, changeOrigin: false } },
  },
  // `npm run preview` serves dist/ under the gateway's strict policy, so a CSP break shows before it ships.
  preview: {
    host: "127.0.0.1",
    port: 4173,
    strictPort: true,
    headers: { "Content-Security-Policy": CONTENT_SECURITY_POLICY },
    proxy: { "/api": { target: gateway, changeOrigin: false } },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    css: false,
    restoreMocks: true,
    unstubGlobals: true,
    // The machines running this are small and shared; a screen test waits for lazy chunks and several answers.
    testTimeout: 20_000,
  },
});
