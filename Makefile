# mmdepthsem — the two commands of the quick start are `make demo` and `make test`.
# Both set up the environment first (tools/install_env.sh: slow once, seconds after).
PYTHON      := .venv/bin/python
# The checkout on PYTHONPATH wins over whichever checkout was last `pip install -e`d
# into the shared environment.
RUN         := PYTHONPATH=$(CURDIR) $(PYTHON)
DEMO_CONFIG := configs/multitask/resnet18_synthetic_nyu.py
DEMO_DIR    := work_dirs/demo
PYTEST_ARGS ?=

.PHONY: install test demo demo-selfsup demo-dss data-dss data-paper demo-sgre demo-sosd demo-sdeseg data clean help

help:
	@echo "make install  - create/reuse the tested environment and link it to .venv"
	@echo "make data     - render the embedded synthetic data (NYU, KITTI, Cityscapes formats)"
	@echo "make data-paper - the synthetic sets at the real datasets' image sizes, few frames"
	@echo "                  (data/synthetic_paper, for benchmark_paper_configs.py)"
	@echo "make data-dss - also render the DSS demo's stage-1 rooms (100, seed 1) and test rooms (40, seed 2)"
	@echo "make demo     - train + evaluate the multi-task demo on embedded synthetic data"
	@echo "make test     - run the whole test suite"
	@echo "make demo-selfsup - Monodepth2 vs FSRE on the synthetic drives (~20 min on 2 cores)"
	@echo "make demo-dss - DSS vs its two baselines, 3 seeds, on synthetic rooms (~40 min)"
	@echo "make demo-sgre - SGRE vs Monodepth2, +SEEM, +SA on the synthetic drives (~30 min)"
	@echo "make demo-sosd - MTL vs SOSD-Net vs ESOSD-Net on the synthetic rooms (~15 min)"
	@echo "make demo-sdeseg - SDE-Seg: SDE pretraining, transfer, labelled-only vs"
	@echo "                   pseudo-labels vs DepthMix, 2 seeds, synthetic streets (~30 min)"

install:
	@bash tools/install_env.sh

SYN := data/synthetic
# $(call convert_nyu,ROOT): ROOT/nyu (the NYU .mat layout) -> ROOT/nyu_converted
convert_nyu = $(RUN) tools/dataset_converters/nyu.py $(1)/nyu/nyu_depth_v2_labeled.mat \
	$(1)/nyu/splits.mat --mapping $(1)/nyu/classMapping40.mat \
	--mapping $(1)/nyu/classMapping13.mat -o $(1)/nyu_converted

data: install
	@$(RUN) tools/dataset_converters/generate_synthetic.py all --out $(SYN) --seed 0
	@$(call convert_nyu,$(SYN))

demo: data
	@$(RUN) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	@$(RUN) demo/demo_report.py $(DEMO_CONFIG) $(DEMO_DIR) --show-dir $(DEMO_DIR)/pictures

SELFSUP_BASELINE := configs/selfsup/monodepth2_resnet18_synthetic_kitti.py
SELFSUP_METHOD   := configs/fsre/resnet18_synthetic_kitti.py
SELFSUP_DIR      := work_dirs/demo_selfsup

demo-selfsup: data
	@$(RUN) tools/train.py $(SELFSUP_BASELINE) --work-dir $(SELFSUP_DIR)/monodepth2
	@$(RUN) tools/train.py $(SELFSUP_METHOD) --work-dir $(SELFSUP_DIR)/fsre
	@$(RUN) demo/selfsup_report.py $(SELFSUP_METHOD) $(SELFSUP_DIR)/fsre \
		--baseline $(SELFSUP_BASELINE) $(SELFSUP_DIR)/monodepth2 \
		--seg-config configs/fsre/resnet18_synthetic_kitti_semantics.py

# The real datasets' image sizes (NYU 480x640, KITTI 375x1242, Cityscapes 1024x2048,
# GTA5, Synthia), a few frames each: tools/analysis_tools/benchmark_paper_configs.py
PAPER_SYN := data/synthetic_paper

data-paper: install
	@$(RUN) tools/dataset_converters/generate_synthetic.py all --preset paper \
		--out $(PAPER_SYN) --seed 0
	@$(call convert_nyu,$(PAPER_SYN))

# DSS demo's stage 1 (the ADE20K pre-training's analogue): 100 rooms of another seed;
# its evaluation rooms: 40 rooms of a third seed, every frame listed in all.txt
DSS_STAGE1_ROOMS := data/synthetic_rooms_stage1
DSS_EVAL_ROOMS := data/synthetic_rooms_eval

data-dss: data
	@$(RUN) tools/dataset_converters/generate_synthetic.py nyu --out $(DSS_STAGE1_ROOMS) \
		--seed 1 --sequences 100 --frames 4
	@$(call convert_nyu,$(DSS_STAGE1_ROOMS))
	@$(RUN) tools/dataset_converters/generate_synthetic.py nyu --out $(DSS_EVAL_ROOMS) \
		--seed 2 --sequences 40 --frames 5
	@$(call convert_nyu,$(DSS_EVAL_ROOMS))
	@cat $(DSS_EVAL_ROOMS)/nyu_converted/train.txt $(DSS_EVAL_ROOMS)/nyu_converted/test.txt \
		> $(DSS_EVAL_ROOMS)/nyu_converted/all.txt

demo-dss: data-dss
	@$(RUN) demo/dss_ablation_report.py --work-dir work_dirs/demo_dss

demo-sgre: data
	@$(RUN) demo/sgre_ablation_report.py --work-dir work_dirs/demo_sgre

demo-sosd: data
	@$(RUN) demo/sosd_ablation_report.py --work-dir work_dirs/demo_sosd

demo-sdeseg: data
	@$(RUN) demo/sdeseg_ssl_report.py --work-dir work_dirs/demo_sdeseg

test: install
	@$(RUN) -m pytest tests $$(ls -d projects/*/tests 2>/dev/null) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

clean:
	rm -rf work_dirs data/synthetic .pytest_cache
