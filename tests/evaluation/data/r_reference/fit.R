# Reference fits for tests/evaluation/test_r_reference.py, written independently of the app's own R
# scripts (evaluation/statistics/r/): lme4::glmer (Laplace) and ordinal::clmm (Laplace), Wald 95 %
# intervals from confint(). Run from the repository root: Rscript tests/evaluation/data/r_reference/fit.R
# [OUT_DIR] (default: beside this script, the committed reference values).
suppressPackageStartupMessages({ library(lme4); library(ordinal) })
here <- "tests/evaluation/data/r_reference"
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else here
t <- read.csv(file.path(here, "turing_2afc.csv"), stringsAsFactors = TRUE)
t$system <- relevel(t$system, ref = "sys-noise")
g <- glmer(y ~ system + (1 | participant) + (1 | clip), data = t, family = binomial)
ci <- confint(g, parm = "beta_", method = "Wald")
glmer_out <- data.frame(system = sub("^system", "", rownames(ci))[-1], versus = "sys-noise",
                        log_odds = fixef(g)[-1], ci_low = ci[-1, 1], ci_high = ci[-1, 2])
write.csv(glmer_out, file.path(out, "glmer_reference.csv"), row.names = FALSE)
r <- read.csv(file.path(here, "fidelity_rating.csv"), stringsAsFactors = TRUE)
r$system <- relevel(r$system, ref = "real")
r$y <- factor(r$y, ordered = TRUE)
m <- clmm(y ~ system + (1 | participant) + (1 | clip), data = r)
ci <- confint(m)[grep("^system", names(coef(m))), , drop = FALSE]
clmm_out <- data.frame(system = sub("^system", "", rownames(ci)), versus = "real",
                       log_odds = coef(m)[rownames(ci)], ci_low = ci[, 1], ci_high = ci[, 2])
write.csv(clmm_out, file.path(out, "clmm_reference.csv"), row.names = FALSE)
print(glmer_out); print(clmm_out)
