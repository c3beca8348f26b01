// Every sampler in one include: step lists, DDIM, DDPM, S-/F-PNDM, DEIS and slerp.
#pragma once
#include "diffusion/ddim.h"
#include "diffusion/ddpm.h"
#include "diffusion/deis.h"
#include "diffusion/interpolation.h"
#include "diffusion/pndm.h"
#include "diffusion/sampler.h"
#include "diffusion/timesteps.h"
