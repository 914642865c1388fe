# syntax=docker/dockerfile:1
# vmcp release image: compile the gateway from the committed vmcp.yaml + vmcp.lock.json (no backend
# is contacted: --frozen), then ship only the bundle on a plain Node runtime.
#
#   docker build --build-arg VMCP_CONFIG=examples/quickstart/vmcp.yaml -t my-gateway .
#   docker run --rm -p 4483:4483 my-gateway
#
# The config's vmcp.lock.json must be committed beside it: a frozen compile fails without it.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install the compiler, compile --frozen, verify the bundle against its manifest ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# The postinstall script lives in scripts/, so it must be present before `npm ci`.
COPY package.json package-lock.json ./
COPY scripts ./scripts
# Runtime dependencies are enough to compile (tsx, esbuild, ts-morph, yaml, zod).
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ARG VMCP_CONFIG=vmcp.yaml
# The bundle is copied under one fixed name so the runtime stage works whatever the gateway is called.
RUN node bin/vmcp.mjs compile --frozen -c "$VMCP_CONFIG" -o /out \
 && for bundle in /out/*.vmcp.mjs; do node bin/vmcp.mjs verify "$bundle" || exit 1; done \
 && mkdir /release \
 && cp /out/*.vmcp.mjs /release/gateway.vmcp.mjs \
 && cp /out/*.manifest.json /release/gateway.manifest.json \
 && cp /out/*.vmcp.mjs.LEGAL.txt /release/LEGAL.txt

# ---- runtime: Node and the bundle, nothing else from the build ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# The manifest records the bundle's sha256 and input hashes (provenance); LEGAL.txt the licences.
COPY --from=build --chown=root:root /release/ /app/
# The official node image ships an unprivileged `node` user (uid 1000); the bundle is read-only to it.
USER node
EXPOSE 4483
# Liveness only: /health answers while the process runs (use /readyz for readiness).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4483/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# 0.0.0.0 makes the gateway reachable from outside the container. Configure incomingAuth (type: oidc)
# in vmcp.yaml before exposing it beyond a trusted network: with `anonymous`, anyone who can reach
# the port can call every backend tool with the gateway's outgoing credentials.
# Secrets are env references in the config: pass them at run time (docker run -e GITHUB_TOKEN=…).
# stdio backends run inside this container: `npx` backends need network access on first start.
CMD ["node", "/app/gateway.vmcp.mjs", "--host", "0.0.0.0", "--port", "4483"]
