# integration_probe_matrix (issue 7, "our own verified matrix, kept true in
# CI"): tests/integration/probe_matrix.sh starts the fleet of real servers
# (tests/integration/fleet.sh: Dovecot and Cyrus for POP3/IMAP in all six
# modes, Postfix with Dovecot SASL and Exim for the five SMTP modes) on
# 127.0.0.1 ports 28025-28995 (MC_FLEET_BASE), runs `mailconform probe`
# against each server in every mode it offers, and compares every cell's
# verdict and findings with tests/integration/probe_matrix.expected.
# Exit 77 (skipped) when not root or a server is not installed
# (scripts/install-deps.sh installs and unpacks them all). Included from
# tests.cmake; only where the probe is built.
if(TARGET mc_probe OR EXISTS ${PROJECT_SOURCE_DIR}/validator/cli/cmd_probe.c)
  add_test(NAME integration_probe_matrix
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/probe_matrix.sh $<TARGET_FILE:mailconform>)
  set_tests_properties(integration_probe_matrix PROPERTIES
    LABELS integration
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    # its own ports and private instances, but four servers at once: keep it
    # apart from the other server tests on a 2-core machine
    RESOURCE_LOCK "mailconform_dovecot_ports;mailconform_smtp_mta;mailconform_probe_fleet_ports")

  # integration_compatibility_doc: docs/compatibility.md is current.
  # scripts/gen-compatibility.sh --check starts the same fleet, probes it,
  # drives real clients (curl, poplib, imaplib, smtplib, swaks, fetchmail,
  # mbsync) through `mailconform relay --check`, regenerates the document
  # and diffs it (lines marked volatile aside). Exit 77 when not root or a
  # server or client is missing. Uses the fleet's ports and MC_FLEET_BASE+1.
  add_test(NAME integration_compatibility_doc
           COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/gen-compatibility.sh --check $<TARGET_FILE:mailconform>)
  set_tests_properties(integration_compatibility_doc PROPERTIES
    LABELS integration
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    RESOURCE_LOCK "mailconform_dovecot_ports;mailconform_smtp_mta;mailconform_probe_fleet_ports")
endif()
