/*
 * Live disease-activity scores on the new visit form.
 *
 * A port of patients/scores.py (derived_scores and categorize): same formulas,
 * same 3-variable fallback, same rounding and categories. It only fills the
 * <output data-score="..."> elements the page offers; the server recomputes
 * every score when the visit is saved, so this file is a convenience, never
 * the source of a stored value. Loaded as a file (no inline script) so a
 * Content-Security-Policy without 'unsafe-inline' allows it.
 */
(function () {
  "use strict";

  var form = document.getElementById("visit-form");
  if (!form) {
    return;
  }

  var RA_LABELS = {
    remission: "Remission", low: "Low disease activity",
    moderate: "Moderate disease activity", high: "High disease activity"
  };
  var IBD_LABELS = {
    remission: "Remission", mild: "Mild disease activity",
    moderate: "Moderate disease activity", severe: "Severe disease activity"
  };
  // Cut-offs checked in order; above the last one is the top category (patients/scores.py _BANDS).
  var BANDS = {
    das28: [[["<", 2.6, "remission"], ["<=", 3.2, "low"], ["<=", 5.1, "moderate"]], "high"],
    cdai: [[["<=", 2.8, "remission"], ["<=", 10, "low"], ["<=", 22, "moderate"]], "high"],
    sdai: [[["<=", 3.3, "remission"], ["<=", 11, "low"], ["<=", 26, "moderate"]], "high"],
    hbi: [[["<", 5, "remission"], ["<=", 7, "mild"], ["<=", 16, "moderate"]], "severe"],
    partial_mayo: [[["<=", 1, "remission"], ["<=", 4, "mild"], ["<=", 6, "moderate"]], "severe"],
    full_mayo: [[["<=", 2, "remission"], ["<=", 5, "mild"], ["<=", 10, "moderate"]], "severe"]
  };

  function categorize(name, value, maxSubscore) {
    var band = BANDS[name.indexOf("das28") === 0 ? "das28" : name];
    for (var i = 0; i < band[0].length; i++) {
      var op = band[0][i][0], bound = band[0][i][1], category = band[0][i][2];
      if (value < bound || (op === "<=" && value === bound)) {
        if (name === "full_mayo" && category === "remission" && maxSubscore > 1) {
          return "mild";
        }
        return category;
      }
    }
    return band[1];
  }

  function num(name) {
    var el = form.elements[name];
    if (!el || el.value === "") {
      return null;
    }
    var v = Number(el.value);
    return isFinite(v) ? v : null;
  }

  function round(value, decimals) {
    var f = Math.pow(10, decimals);
    return Math.round(value * f) / f;
  }

  function toInt(total) {
    return Math.floor(total + 0.5);
  }

  function joints(t, s) {
    return 0.56 * Math.sqrt(t) + 0.28 * Math.sqrt(s);
  }

  function lnEsr(esr) {
    return 0.70 * Math.log(Math.max(esr, 1.0));
  }

  function lnCrp(crp) {
    return 0.36 * Math.log(crp + 1.0);
  }

  function derivedScores() {
    var out = {};
    function add(name, label, value, decimals, labels, maxSubscore) {
      if (decimals) {
        value = round(value, decimals);
      }
      var category = categorize(name, value, maxSubscore || 0);
      out[name] = { label: label, value: value, category: labels[category] };
    }
    var t = num("tender_joint_count_28"), s = num("swollen_joint_count_28");
    var esr = num("esr"), crp = num("crp"), pg = num("patient_global"), eg = num("evaluator_global");
    if (t !== null && s !== null) {
      var j = joints(t, s);
      if (esr !== null && pg !== null) {
        add("das28_esr", "DAS28-ESR", j + lnEsr(esr) + 0.014 * pg, 2, RA_LABELS);
      } else if (esr !== null) {
        add("das28_esr", "DAS28-ESR (3 variables)", (j + lnEsr(esr)) * 1.08 + 0.16, 2, RA_LABELS);
      }
      if (crp !== null && pg !== null) {
        add("das28_crp", "DAS28-CRP", j + lnCrp(crp) + 0.014 * pg + 0.96, 2, RA_LABELS);
      } else if (crp !== null) {
        add("das28_crp", "DAS28-CRP (3 variables)", (j + lnCrp(crp)) * 1.10 + 1.15, 2, RA_LABELS);
      }
      if (pg !== null && eg !== null) {
        var cdai = t + s + pg / 10 + eg / 10;
        add("cdai", "CDAI", cdai, 1, RA_LABELS);
        if (crp !== null) {
          add("sdai", "SDAI", cdai + crp / 10, 1, RA_LABELS);
        }
      }
    }
    var hbi = ["hbi_general_wellbeing", "hbi_abdominal_pain", "hbi_liquid_stools", "hbi_abdominal_mass",
               "hbi_complications"].map(num);
    if (hbi.every(function (v) { return v !== null; })) {
      add("hbi", "Harvey-Bradshaw Index", toInt(hbi.reduce(function (a, b) { return a + b; }, 0)), 0, IBD_LABELS);
    }
    var mayo = ["mayo_stool_frequency", "mayo_rectal_bleeding", "mayo_physician_global"].map(num);
    if (mayo.every(function (v) { return v !== null; })) {
      var partial = mayo[0] + mayo[1] + mayo[2];
      add("partial_mayo", "Partial Mayo score", toInt(partial), 0, IBD_LABELS);
      var endo = num("mayo_endoscopic");
      if (endo !== null) {
        add("full_mayo", "Mayo score", toInt(partial + endo), 0, IBD_LABELS,
            Math.max(mayo[0], mayo[1], mayo[2], endo));
      }
    }
    return out;
  }

  var outputs = Array.prototype.slice.call(form.querySelectorAll("output[data-score]"));

  function update() {
    var scores = derivedScores();
    outputs.forEach(function (output) {
      var name = output.getAttribute("data-score");
      var score = scores[name];
      var label = document.getElementById("label-" + name);
      var category = document.getElementById("cat-" + name);
      output.textContent = score ? String(score.value) : "—";
      if (category) {
        category.textContent = score ? score.category : "";
      }
      if (label && score) {
        label.textContent = score.label;
      }
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
