# The pinned Kubernetes control plane for the end-to-end tests (include from the main Makefile).
#
#   make controlplane    builds what is missing (cold: minutes; warm: seconds) and exports
#                        AZDO_CONTROLPLANE_BIN to the recipes of targets that depend on it.
#
# An AZDO_CONTROLPLANE_BIN already set in the environment is used as it is.

CONTROLPLANE_SH := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))controlplane.sh)

.PHONY: controlplane
ifeq ($(origin AZDO_CONTROLPLANE_BIN),environment)
controlplane:
	@test -x "$(AZDO_CONTROLPLANE_BIN)/kube-apiserver" || \
		{ echo "AZDO_CONTROLPLANE_BIN=$(AZDO_CONTROLPLANE_BIN) has no kube-apiserver" >&2; exit 1; }
	@echo "AZDO_CONTROLPLANE_BIN=$(AZDO_CONTROLPLANE_BIN)"
else
# $(shell) runs when make expands this recipe: its stderr (build progress) reaches the terminal,
# its last stdout line is the bin dir, and .SHELLSTATUS tells whether it succeeded.
controlplane:
	$(eval AZDO_CONTROLPLANE_BIN := $(lastword $(shell "$(CONTROLPLANE_SH)" ensure)))
	$(if $(filter 0,$(.SHELLSTATUS)),,$(error $(CONTROLPLANE_SH) ensure failed))
	@echo "AZDO_CONTROLPLANE_BIN=$(AZDO_CONTROLPLANE_BIN)"
endif

export AZDO_CONTROLPLANE_BIN
