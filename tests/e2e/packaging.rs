//! Packaging: the Helm chart, the kustomize bases, the container image and the Argo CD health
//! checks, each tested with the real tool (helm, kubectl, buildah, hadolint, lua5.1) and, where
//! it matters, against the real apiserver.

mod argocd;
mod chart;
mod image;
mod install;
mod kustomize;
pub mod tools;
