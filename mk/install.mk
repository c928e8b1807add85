# `make install`: binaries, systemd unit, sysusers/tmpfiles snippets, config
# example, docs. Honours DESTDIR and PREFIX (defaults in the Makefile).
# Layout and the reasons for it: docs/INSTALL.md.
#
# Everything package-like goes under $(PREFIX), including the unit
# ($(PREFIX)/lib/systemd/system): with PREFIX=/usr that is the merged-/usr
# location Debian uses (/lib is a symlink to usr/lib), with the default
# /usr/local it is a directory systemd also searches. The config always goes
# to /etc/dedupd because the unit's ConfigurationDirectory= is relative to /etc.
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR ?= $(PREFIX)/share/doc/dedupd
CONFDIR := /etc/dedupd
CONF_EXAMPLE ?= conf/dedupd.conf.example
INSTALL_DOCS := README.md $(wildcard docs/*.md)

# The live config is installed from the example only when absent, so an
# upgrade never overwrites local settings; it is 0640 because it may hold
# secrets (systemd/dedupd.tmpfiles gives it group dedupd). Without an
# example in the tree the config step is skipped with a note.
install: $(PROGS)
	@case '$(PREFIX)' in /*) ;; *) echo "install: PREFIX must be an absolute path, not '$(PREFIX)'" >&2; exit 1 ;; esac
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/
	sed 's|@PREFIX@|$(PREFIX)|g' systemd/dedupd.service > $(DESTDIR)$(UNITDIR)/dedupd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/dedupd.service
	install -m 0644 systemd/dedupd.sysusers $(DESTDIR)$(SYSUSERSDIR)/dedupd.conf
	install -m 0644 systemd/dedupd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/dedupd.conf
	@if [ ! -f '$(CONF_EXAMPLE)' ]; then \
		echo "install: note: $(CONF_EXAMPLE) not found, no config installed" >&2; \
	else \
		echo "install -m 0644 $(CONF_EXAMPLE) $(DESTDIR)$(CONFDIR)/dedupd.conf.example"; \
		install -m 0644 '$(CONF_EXAMPLE)' '$(DESTDIR)$(CONFDIR)/dedupd.conf.example' || exit 1; \
		if [ -e '$(DESTDIR)$(CONFDIR)/dedupd.conf' ]; then \
			echo "install: keeping existing $(DESTDIR)$(CONFDIR)/dedupd.conf"; \
		else \
			echo "install -m 0640 $(CONF_EXAMPLE) $(DESTDIR)$(CONFDIR)/dedupd.conf"; \
			install -m 0640 '$(CONF_EXAMPLE)' '$(DESTDIR)$(CONFDIR)/dedupd.conf' || exit 1; \
		fi; \
	fi
	@echo "install: done. On the target system run: systemd-sysusers; systemd-tmpfiles --create dedupd.conf; systemctl daemon-reload (docs/INSTALL.md)"
