// Debian's libyaml (libyaml-dev, runtime libyaml-0-2) for the topology parser's YAML front end.
#pragma once
#include <yaml.h>
