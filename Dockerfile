# syntax=docker/dockerfile:1
# azdo-operator: a static (musl) binary on an empty base image, running as a non-root user.
#
#   docker build -t azdo-operator .
#
# The final stage takes everything from the `builder` stage's /out/rootfs, so a binary built
# elsewhere can be packaged without compiling in the build (what the tests do with buildah):
#   buildah build --build-context builder=<dir with out/rootfs/> -f Dockerfile <empty dir>

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM docker.io/library/rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# musl-tools: the C compiler for aws-lc-sys on the musl target (the image already has the
# ca-certificates bundle copied into the final image). The pin follows DEBIAN_RELEASE.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The target matches the build platform (amd64 or arm64); the binary is fully static.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(uname -m)-unknown-linux-musl" \
    && rustup target add "${target}" \
    && CARGO_PROFILE_RELEASE_STRIP=symbols \
       cargo build --release --locked --package azdo-operator --bin azdo-operator --target "${target}" \
    && install -D -m 0755 "target/${target}/release/azdo-operator" /out/rootfs/usr/local/bin/azdo-operator \
    && install -D -m 0644 /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ca-certificates.crt \
    && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > passwd \
    && printf 'root:x:0:\nnonroot:x:65532:\n' > group \
    && install -D -m 0644 passwd /out/rootfs/etc/passwd \
    && install -D -m 0644 group /out/rootfs/etc/group \
    && install -d -m 1777 /out/rootfs/tmp

FROM scratch
COPY --from=builder /out/rootfs/ /
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/azdo-operator"]
CMD ["run"]
