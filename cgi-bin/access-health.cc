#include "programs.h"

int main(int argc, char** argv) { return access_limiter::runHealth(argc, argv); }
