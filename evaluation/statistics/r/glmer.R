# fooled ~ system + (1|participant) + (1|clip), logistic, by lme4::glmer (Laplace, nAGQ = 1).
# Usage: Rscript glmer.R DATA.csv OUT.csv REFERENCE
# DATA.csv: columns y (0/1), system, participant, clip. OUT.csv: one row per system term (estimate,
# Wald standard error from lme4's vcov, Wald 95 % interval, z-test p-value), then the random-effect
# standard deviations, then any warnings lme4 raised (a singular fit, a convergence check).
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(lme4))
d <- read.csv(args[1], colClasses = c(y = "numeric", system = "character", participant = "character",
                                      clip = "character"))
d$system <- relevel(factor(d$system), ref = args[3])
notes <- character()
fit <- withCallingHandlers(
  glmer(y ~ system + (1 | participant) + (1 | clip), data = d, family = binomial, nAGQ = 1,
        control = glmerControl(optimizer = "bobyqa")),
  warning = function(w) { notes <<- c(notes, conditionMessage(w)); invokeRestart("muffleWarning") },
  message = function(m) { notes <<- c(notes, trimws(conditionMessage(m))); invokeRestart("muffleMessage") }
)
if (isSingular(fit)) notes <- c(notes, "singular fit: a random-effect variance is estimated as zero")
co <- summary(fit)$coefficients
terms <- grep("^system", rownames(co), value = TRUE)
est <- co[terms, "Estimate"]; se <- co[terms, "Std. Error"]
vc <- as.data.frame(VarCorr(fit))
out <- rbind(
  data.frame(kind = "effect", name = sub("^system", "", terms), estimate = est, std_error = se,
             ci_low = est - qnorm(0.975) * se, ci_high = est + qnorm(0.975) * se,
             p_value = co[terms, "Pr(>|z|)"]),
  data.frame(kind = "random_sd", name = vc$grp, estimate = vc$sdcor, std_error = NA, ci_low = NA,
             ci_high = NA, p_value = NA),
  if (length(notes)) data.frame(kind = "note", name = notes, estimate = NA, std_error = NA, ci_low = NA,
                                ci_high = NA, p_value = NA)
)
write.csv(out, args[2], row.names = FALSE)
