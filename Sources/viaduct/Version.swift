/// What `viaduct --version` prints. Scripts/package writes the package's version here for the
/// release build and puts this file back afterwards; a build from a checkout says so instead.
let viaductVersion = "development build (not made by Scripts/package)"
