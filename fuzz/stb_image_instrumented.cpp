// stb_image's decoder compiled into the image fuzz target from the header Debian's libstb is built
// from, so the sanitizers and libFuzzer's coverage reach inside it. Only this target does this;
// the engine itself links the library.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
