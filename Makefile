# Thin wrapper over scripts/; the scripts do the work.
#   make test ARGS='-L unit'    passes ARGS to ctest
BUILD_DIR ?= build
ARGS ?=
C_FILES = $(shell find src include tests tools bench fuzz -name '*.[ch]' 2>/dev/null)
CPPCHECK_FLAGS = --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
	--suppress=missingIncludeSystem -I include -I src -D_GNU_SOURCE --std=c11 -q -j$(shell nproc)
# cppcheck does not read system headers: tell it what jansson's iteration
# macros are.
CPPCHECK_FLAGS += '-Djson_array_foreach(a,i,v)=for(i=0;(v=json_array_get(a,i));i++)' \
	'-Djson_object_foreach(o,k,v)=for(k=0,v=0;k;)'

.PHONY: run test build format format-check lint openapi-lint openapi-json clean

run:
	scripts/run.sh

test:
	BUILD_DIR=$(BUILD_DIR) scripts/test.sh $(ARGS)

build:
	scripts/install-deps.sh
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(shell nproc)

format:
	$(if $(C_FILES),clang-format -i $(C_FILES))

format-check:
	$(if $(C_FILES),clang-format --dry-run -Werror $(C_FILES))

lint:
	cppcheck $(CPPCHECK_FLAGS) src

# The OpenAPI linter comes from npm (package.json pins it). openapi.json is
# generated from openapi.yaml (served at /openapi.json): make openapi-json
# after editing the YAML; the lint fails when the JSON is stale.
openapi-lint:
	npm ci --no-audit --no-fund --loglevel=error
	npx --no-install redocly lint openapi.yaml
	npx --no-install redocly bundle openapi.yaml --ext json -o build-openapi.json >/dev/null
	cmp -s build-openapi.json openapi.json || { echo "openapi.json is stale: run make openapi-json"; rm -f build-openapi.json; exit 1; }
	rm -f build-openapi.json

openapi-json:
	npx --no-install redocly bundle openapi.yaml --ext json -o openapi.json

clean:
	rm -rf build build-*/
