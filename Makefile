# aijri: one binary, bin/aijri, from the layers below.
#   make                      release build (-O2)
#   make DEVELOPER=1          warnings are errors
#   make SANITIZE=address,undefined   sanitizer build (objects in build/san)
#   make test                 unit tests, then API tests against the real binary
#   make install PREFIX=/usr/local DESTDIR=

CC       ?= cc
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
PKGS     := libmicrohttpd jansson sqlite3 libpq libcurl libcrypto libcmark

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -pthread -I. $(shell pkg-config --cflags $(PKGS))
WARN     := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wvla \
            -Wwrite-strings -Wformat=2 -Wno-format-nonliteral \
            -Werror=implicit-function-declaration
CFLAGS   += $(WARN)
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lm -pthread

ifeq ($(DEVELOPER),1)
CFLAGS   += -Werror
endif

# O is the output root: objects go to $(O)/rel or $(O)/san. A build with another O (a
# private build, e.g. O=build/mine) also puts its binary there instead of in bin/.
O        ?= build
BUILD    := $(O)/rel
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=$(SANITIZE)
BUILD    := $(O)/san
endif

# Every module folder contributes all its .c files; the binary's entry is server/main.c.
LIBSRC   := $(wildcard util/*.c scoring/*.c body/*.c revise/*.c store/*.c pages/*.c api/*.c) $(filter-out server/main.c,$(wildcard server/*.c))
LIBOBJ   := $(LIBSRC:%.c=$(BUILD)/%.o) $(BUILD)/embed.o
HEADERS  := $(wildcard util/*.h scoring/*.h body/*.h revise/*.h store/*.h pages/*.h api/*.h server/*.h)
EMBEDDED := $(sort $(wildcard migrations/*.sql migrations/pg/*.sql)) $(wildcard data/*.json) api/openapi.json

BINDIR_  := bin
ifneq ($(O),build)
BINDIR_  := $(O)
endif
BIN      := $(BINDIR_)/aijri
ifneq ($(SANITIZE),)
BIN      := $(BINDIR_)/aijri-san
endif

UNITSRC  := $(wildcard tests/unit/test_*.c)
UNITBIN  := $(UNITSRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test unit-bins clean install uninstall
all: $(BIN)
# Prints the binary's path, for scripts: make -s print-bin [O=...] [SANITIZE=...]
print-bin:
	@echo $(BIN)

# An archive, so that a unit test links only the modules it uses.
LIB      := $(BUILD)/libaijri.a
$(LIB): $(LIBOBJ)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/server/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The product's code is compiled with util/banned.h forced in: a banned call fails the build.
$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -include util/banned.h -c -o $@ $<

# Migrations, the default data and the OpenAPI document are compiled into the binary.
$(BUILD)/embed.S: util/embed.sh $(EMBEDDED)
	@mkdir -p $(dir $@)
	sh util/embed.sh $(EMBEDDED) > $@
$(BUILD)/embed.o: $(BUILD)/embed.S
	$(CC) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

unit-bins: $(UNITBIN)

test: $(BIN) $(UNITBIN)
	sh tests/run $(BIN) $(UNITBIN)

SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/aijri
	install -d $(DESTDIR)$(SYSTEMDDIR)
	sed 's|/usr/local/bin/aijri|$(BINDIR)/aijri|' deploy/aijri.service > $(DESTDIR)$(SYSTEMDDIR)/aijri.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/aijri.service
	install -D -m 0644 deploy/aijri.env.example $(DESTDIR)$(SYSCONFDIR)/aijri/aijri.env.example
	install -D -m 0644 deploy/aijri.conf.example $(DESTDIR)$(SYSCONFDIR)/aijri/aijri.conf.example

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/aijri $(DESTDIR)$(SYSTEMDDIR)/aijri.service
	rm -f $(DESTDIR)$(SYSCONFDIR)/aijri/aijri.env.example $(DESTDIR)$(SYSCONFDIR)/aijri/aijri.conf.example

clean:
	rm -rf build bin
